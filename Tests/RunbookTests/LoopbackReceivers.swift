import ChildProcesses
import Foundation
import Synchronization

/// A TCP listener on 127.0.0.1 serving one connection at a time on a thread of its own, for receivers that
/// record what a client sent. Stopped explicitly (`stop()`), so a test can take a receiver down and up again.
final class LoopbackListener: Sendable {
    let port: Int
    private let descriptor: Int32
    private let stopped = Mutex(false)

    /// Listens on `port` (a free one when nil) and hands each accepted connection to `serve`, which owns it.
    init(port: Int? = nil, serve: @escaping @Sendable (Int32) -> Void) throws {
        let chosen = try port ?? freeLoopbackPort()
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ChildProcessError(message: "socket(): \(String(cString: strerror(errno)))") }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(chosen).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound, listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ChildProcessError(message: "127.0.0.1:\(chosen): \(reason)")
        }
        self.port = chosen
        self.descriptor = descriptor
        let thread = Thread {
            while true {
                let connection = accept(descriptor, nil, nil)
                guard connection >= 0 else { return }  // shut down by stop()
                serve(connection)
                close(connection)
            }
        }
        thread.start()
    }

    /// Stops accepting (shutdown wakes the blocked accept) and frees the port; only the first call closes it, as
    /// the descriptor's number may belong to another socket afterwards.
    func stop() {
        guard stopped.withLock({ wasStopped in defer { wasStopped = true }; return !wasStopped }) else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}

/// Reads CRLF lines and bytes from a connection, and writes replies.
struct LineConnection {
    let descriptor: Int32
    var buffer: [UInt8] = []

    init(_ descriptor: Int32) {
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: 10, tv_usec: 0)  // a stuck client must not hang the test run
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next line without its CRLF; nil at the end of the stream.
    mutating func line() -> String? {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<end])
                buffer.removeFirst(end + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard fill() else { return nil }
        }
    }

    /// Exactly `count` bytes (after what `line()` left buffered); nil when the stream ends first.
    mutating func bytes(_ count: Int) -> [UInt8]? {
        while buffer.count < count { guard fill() else { return nil } }
        defer { buffer.removeFirst(count) }
        return Array(buffer.prefix(count))
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk.prefix(count))
        return true
    }
}

/// An HTTP/1.1 receiver that answers every request with `status` and records method, path, headers and body.
final class HTTPReceiver: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    private let listener: LoopbackListener
    private let received: Recording<Request>
    var port: Int { listener.port }
    var requests: [Request] { received.all }

    init(port: Int? = nil, status: Int = 200) throws {
        let received = Recording<Request>()
        self.received = received
        listener = try LoopbackListener(port: port) { descriptor in
            var connection = LineConnection(descriptor)
            guard let requestLine = connection.line() else { return }
            let parts = requestLine.split(separator: " ")
            var headers: [String: String] = [:]
            while let line = connection.line(), !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let body = connection.bytes(Int(headers["content-length"] ?? "0") ?? 0) ?? []
            received.append(Request(method: parts.first.map(String.init) ?? "", path: parts.count > 1 ? String(parts[1]) : "", headers: headers, body: body))
            connection.write("HTTP/1.1 \(status) Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        }
    }

    func stop() { listener.stop() }
}

/// A minimal SMTP server: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT, no TLS (curl's
/// CURLUSESSL_TRY then goes on in plain text). Records each message with its envelope and the login.
final class SMTPReceiver: Sendable {
    struct Message: Sendable {
        var from: String
        var recipients: [String]
        /// The DATA as sent, dot-stuffing undone, lines joined with CRLF.
        var data: String
        /// `user:password` from AUTH PLAIN, when the client logged in.
        var login: String?

        /// The first header of that name.
        func header(_ name: String) -> String? {
            for line in data.components(separatedBy: "\r\n") {
                if line.isEmpty { return nil }
                if line.lowercased().hasPrefix(name.lowercased() + ":") { return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }

        var body: String { data.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    private let listener: LoopbackListener
    private let received: Recording<Message>
    var port: Int { listener.port }
    var messages: [Message] { received.all }

    /// How the receiver behaves: as a mail server should, refusing every recipient, or silent after accepting the
    /// connection (a hung server: the client must give up on its own).
    enum Behaviour: Sendable {
        case accepting, refusingRecipients, silent
    }

    init(port: Int? = nil, behaviour: Behaviour = .accepting) throws {
        let received = Recording<Message>()
        self.received = received
        listener = try LoopbackListener(port: port) { descriptor in
            var connection = LineConnection(descriptor)
            if behaviour == .silent {
                _ = connection.line()  // until the client hangs up (or the read times out)
                return
            }
            connection.write("220 localhost ESMTP test receiver\r\n")
            var message = Message(from: "", recipients: [], data: "")
            while let line = connection.line() {
                let command = line.uppercased()
                if command.hasPrefix("EHLO") {
                    connection.write("250-localhost\r\n250 AUTH PLAIN\r\n")
                } else if command.hasPrefix("HELO") || command.hasPrefix("NOOP") {
                    connection.write("250 ok\r\n")
                } else if command.hasPrefix("AUTH PLAIN") {
                    var encoded = line.dropFirst("AUTH PLAIN".count).trimmingCharacters(in: .whitespaces)
                    if encoded.isEmpty {
                        connection.write("334 \r\n")
                        encoded = connection.line() ?? ""
                    }
                    let parts = (Data(base64Encoded: encoded) ?? Data()).split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                    message.login = parts.count == 3 ? "\(parts[1]):\(parts[2])" : nil
                    connection.write("235 authenticated\r\n")
                } else if command.hasPrefix("MAIL FROM:") {
                    message.from = Self.address(line)
                    connection.write("250 ok\r\n")
                } else if command.hasPrefix("RCPT TO:") {
                    if behaviour == .refusingRecipients {
                        connection.write("550 5.1.1 no such mailbox\r\n")
                        continue
                    }
                    message.recipients.append(Self.address(line))
                    connection.write("250 ok\r\n")
                } else if command == "DATA" {
                    connection.write("354 end with <CRLF>.<CRLF>\r\n")
                    var lines: [String] = []
                    while let dataLine = connection.line(), dataLine != "." {
                        lines.append(dataLine.hasPrefix("..") ? String(dataLine.dropFirst()) : dataLine)
                    }
                    message.data = lines.joined(separator: "\r\n")
                    received.append(message)
                    message = Message(from: "", recipients: [], data: "", login: message.login)
                    connection.write("250 queued\r\n")
                } else if command == "RSET" {
                    message = Message(from: "", recipients: [], data: "", login: message.login)
                    connection.write("250 ok\r\n")
                } else if command == "QUIT" {
                    connection.write("221 bye\r\n")
                    return
                } else {
                    connection.write("502 not implemented\r\n")
                }
            }
        }
    }

    /// The address between `<` and `>` of a MAIL or RCPT command.
    private static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }

    func stop() { listener.stop() }
}

/// What a receiver recorded, shared between its connection thread and the test.
final class Recording<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}
