import CCurl
import Foundation
import Primitives

/// One HTTP request: where, how long to wait, and over which transport.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    public var connectTimeout: Duration
    /// The whole exchange, connect included.
    public var timeout: Duration
    /// Talk HTTP over this unix socket instead of TCP (the Docker Engine API); the URL's host is then ignored.
    public var unixSocketPath: String?

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        connectTimeout: Duration = .seconds(2), timeout: Duration = .seconds(5), unixSocketPath: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.unixSocketPath = unixSocketPath
    }
}

/// What came back, and how long each part of the exchange took.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Time to connect, to the first response byte, and in total, as libcurl measured them.
    public var connectTime: Duration
    public var firstByteTime: Duration
    public var totalTime: Duration

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The first header of that name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Decodes the body as JSON.
    public func decode<Value: Decodable>(_ type: Value.Type, decoder: JSONDecoder = JSONDecoder()) throws -> Value {
        try decoder.decode(type, from: Data(body))
    }
}

/// A transfer that failed before a response arrived: libcurl's code and message, and the URL.
public struct HTTPTransferError: Error, CustomStringConvertible, Equatable {
    public var url: String
    public var unixSocketPath: String?
    /// The `CURLcode` (e.g. 7 = could not connect, 28 = timed out).
    public var code: Int
    public var message: String

    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }

    public var description: String {
        let target = unixSocketPath.map { "\(url) via \($0)" } ?? url
        return "\(target): \(message) (curl error \(code))"
    }
}

/// An HTTP client over libcurl. Each request gets an easy handle and a thread of its own, outside Swift's
/// cooperative pool (`curl_easy_perform` blocks), so the client is freely shareable.
public struct HTTPClient: Sendable {
    public init() {
        _ = Self.globalInit
    }

    /// curl_global_init is not thread-safe and must run before any handle exists: once, lazily, atomically.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends the request and waits for the response; any HTTP status is a response, not an error.
    public func send(_ request: HTTPRequest) async throws(HTTPTransferError) -> HTTPResponse {
        // A thread of its own per transfer: on Linux the global dispatch queues share their (core-sized)
        // width with Swift's cooperative pool, so blocking there can starve every async task.
        let result: Result<HTTPResponse, HTTPTransferError> = await withCheckedContinuation { continuation in
            OSThread.detach(name: "http transfer") { continuation.resume(returning: Self.perform(request)) }
        }
        return try result.get()
    }

    /// `GET url`.
    public func get(_ url: String, timeout: Duration = .seconds(5), unixSocketPath: String? = nil) async throws(HTTPTransferError) -> HTTPResponse {
        try await send(HTTPRequest(url: url, timeout: timeout, unixSocketPath: unixSocketPath))
    }

    /// `POST url` with a JSON body.
    public func post(_ url: String, json: [UInt8], headers: [(name: String, value: String)] = [], timeout: Duration = .seconds(5)) async throws(HTTPTransferError) -> HTTPResponse {
        try await send(HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers, body: json, timeout: timeout))
    }

    private static func perform(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPTransferError> {
        guard let handle = curl_easy_init() else {
            return .failure(HTTPTransferError(url: request.url, unixSocketPath: request.unixSocketPath, code: -1, message: "cannot create a curl handle"))
        }
        defer { curl_easy_cleanup(handle) }
        let sink = ResponseSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in request.headers { headerList = curl_slist_append(headerList, "\(header.name): \(header.value)") }
        if request.body != nil && !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            // Skip "Expect: 100-continue": it stalls small POSTs for a round trip.
            headerList = curl_slist_append(headerList, "Expect:")
        }

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorText in
            (request.body ?? []).withUnsafeBufferPointer { body in
                request.url.withCString { url in
                    (request.unixSocketPath ?? "").withCString { socketPath in
                        request.method.withCString { method in
                            cdb_curl_setopt_pointer(handle, CURLOPT_URL, url)
                            cdb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorText.baseAddress)
                            cdb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)  // timeouts must not use SIGALRM in a threaded process
                            cdb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
                            cdb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
                            cdb_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, collectBody)
                            cdb_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
                            cdb_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, collectHeader)
                            cdb_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
                            cdb_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList)
                            if request.unixSocketPath != nil {
                                cdb_curl_setopt_pointer(handle, CURLOPT_UNIX_SOCKET_PATH, socketPath)
                            }
                            if request.body != nil {
                                cdb_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafePointer(bitPattern: 1))
                                cdb_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                            }
                            if request.method == "HEAD" {
                                cdb_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
                            } else if request.method != "GET" || request.body != nil {
                                cdb_curl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, method)
                            }
                            return curl_easy_perform(handle)
                        }
                    }
                }
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            return .failure(HTTPTransferError(url: request.url, unixSocketPath: request.unixSocketPath, code: Int(code.rawValue), message: message))
        }
        var status = 0
        cdb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(
            status: status, headers: sink.headers, body: sink.body,
            connectTime: timing(handle, CURLINFO_CONNECT_TIME_T),
            firstByteTime: timing(handle, CURLINFO_STARTTRANSFER_TIME_T),
            totalTime: timing(handle, CURLINFO_TOTAL_TIME_T)))
    }

    /// Whole milliseconds, at least 1: curl reads a 0 timeout as "none".
    static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(duration.milliseconds))
    }

    private static func timing(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> Duration {
        var micros: curl_off_t = 0
        cdb_curl_getinfo_offset(handle, info, &micros)
        return .microseconds(micros)
    }
}

/// Collects one response; only the transfer's own thread touches it.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
}

private let collectBody: cdb_curl_data_callback = { data, size, count, context in
    let length = size * count
    guard let data, let context else { return length }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
    return length
}

private let collectHeader: cdb_curl_data_callback = { data, size, count, context in
    let length = size * count
    guard let data, let context else { return length }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
    if line.hasPrefix("HTTP/") {
        sink.headers.removeAll()  // a new response (after a redirect or 100-continue) starts over
    } else if let colon = line.firstIndex(of: ":") {
        sink.headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    return length
}
