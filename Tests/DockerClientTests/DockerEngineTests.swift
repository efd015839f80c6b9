@testable import DockerClient
import Testing

@Suite("The Docker Engine client's pure parts")
struct DockerEngineTests {
    @Test("DOCKER_HOST is read the way the docker CLI reads it")
    func dockerHost() throws {
        #expect(try DockerHostAddress(dockerHost: nil) == .standard)
        #expect(try DockerHostAddress(dockerHost: "unix:///run/user/1000/docker.sock").unixSocketPath == "/run/user/1000/docker.sock")
        #expect(try DockerHostAddress(dockerHost: "tcp://127.0.0.1:2375").baseURL == "http://127.0.0.1:2375")
        let error = #expect(throws: DockerHostError.self) { try DockerHostAddress(dockerHost: "ssh://me@host") }
        #expect(error?.description == "DOCKER_HOST: 'ssh://me@host': only unix:// and tcp:// are supported (ssh:// and npipe:// are not)")
        #expect(throws: DockerHostError.self) { try DockerHostAddress(dockerHost: "tcp://host:abc") }
    }

    @Test("multiplexed Docker log frames are joined, stdout and stderr alike")
    func dockerLogs() {
        func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
            let bytes = Array(text.utf8)
            return [stream, 0, 0, 0, 0, 0, UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
        }
        let body = frame(1, "INFO started\n") + frame(2, "ERROR boom\n")
        #expect(DockerEngine.demultiplex(body) == "INFO started\nERROR boom\n")
        #expect(DockerEngine.demultiplex(Array("plain tty output\n".utf8)) == "plain tty output\n")
    }
}
