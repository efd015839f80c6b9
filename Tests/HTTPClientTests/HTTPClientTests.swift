import Foundation
import HTTPClient
import Hummingbird
import NIOCore
import Testing

/// A real Hummingbird server on a free port or a unix socket, for the client to talk to.
private func withServer<Result: Sendable>(
    address: BindAddress = .hostname("127.0.0.1", port: 0),
    _ body: @Sendable (Int) async throws -> Result
) async throws -> Result {
    let router = Router()
    router.get("hello") { _, _ in "hello" }
    router.get("slow") { _, _ -> String in
        try await Task.sleep(for: .seconds(3))
        return "late"
    }
    router.post("echo") { request, _ -> Response in
        let body = try await request.body.collect(upTo: 1 << 20)
        return Response(status: .created, headers: [.contentType: "application/octet-stream"], body: ResponseBody(byteBuffer: body))
    }
    let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router, configuration: .init(address: address),
        onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        var ports = portStream.makeAsyncIterator()
        let port = await ports.next() ?? 0
        defer { group.cancelAll() }
        return try await body(port)
    }
}

@Suite("HTTP client over libcurl against a real server")
struct HTTPClientTests {
    let client = HTTPClient()

    @Test("GET returns status, headers, body and timings")
    func getRoundTrip() async throws {
        try await withServer { port in
            let response = try await client.get("http://127.0.0.1:\(port)/hello")
            #expect(response.status == 200)
            #expect(response.text == "hello")
            #expect(response.header("content-type")?.hasPrefix("text/plain") == true)
            #expect(response.totalTime > .zero)
            #expect(response.totalTime >= response.firstByteTime)
        }
    }

    @Test("POST sends the body and any status comes back as a response, not an error")
    func postEchoes() async throws {
        try await withServer { port in
            let response = try await client.post("http://127.0.0.1:\(port)/echo", json: Array("{\"a\":1}".utf8))
            #expect(response.status == 201)
            #expect(response.text == "{\"a\":1}")
            let missing = try await client.get("http://127.0.0.1:\(port)/nowhere")
            #expect(missing.status == 404)
        }
    }

    @Test("a slow server trips the total timeout with curl's timeout code")
    func timeout() async throws {
        try await withServer { port in
            let start = ContinuousClock.now
            let error = await #expect(throws: HTTPTransferError.self) {
                try await client.get("http://127.0.0.1:\(port)/slow", timeout: .milliseconds(300))
            }
            #expect(error?.isTimeout == true)
            #expect(error?.code == 28)
            #expect(ContinuousClock.now - start < .seconds(2))
        }
    }

    @Test("HTTP over a unix socket, as the Docker Engine API is spoken")
    func unixSocket() async throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-http-\(UUID().uuidString).sock").path
        defer { try? FileManager.default.removeItem(atPath: socket) }
        try await withServer(address: .unixDomainSocket(path: socket)) { _ in
            let response = try await client.get("http://localhost/hello", unixSocketPath: socket)
            #expect(response.status == 200)
            #expect(response.text == "hello")
        }
    }

    @Test("a refused connection names the URL and the cause")
    func refused() async throws {
        let error = await #expect(throws: HTTPTransferError.self) { try await client.get("http://127.0.0.1:1/health") }
        #expect(error?.code == 7)
        #expect(error?.description.hasPrefix("http://127.0.0.1:1/health: ") == true)
    }
}
