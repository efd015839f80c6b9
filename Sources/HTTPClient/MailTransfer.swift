import CCurl
import Foundation
import Primitives

/// One message to hand to an SMTP server: where, as whom, to whom, and the RFC 5322 text itself.
public struct MailRequest: Sendable {
    /// `smtp://host:port` (STARTTLS when the server offers it) or `smtps://host:port` (TLS from the start).
    public var url: String
    public var username: String?
    public var password: String?
    /// The envelope sender and recipients (bare addresses, no display names).
    public var from: String
    public var recipients: [String]
    /// The whole message, headers and body, with CRLF line ends; curl dot-stuffs it on the wire.
    public var message: [UInt8]
    public var connectTimeout: Duration
    /// The whole exchange, connect included.
    public var timeout: Duration
    /// smtp:// only: refuse to go on when the server offers no STARTTLS (a password must not cross a network in clear);
    /// otherwise STARTTLS is used when offered.
    public var requireTLS: Bool

    public init(url: String, username: String? = nil, password: String? = nil, from: String, recipients: [String], message: [UInt8],
                connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(15), requireTLS: Bool = false) {
        self.url = url
        self.username = username
        self.password = password
        self.from = from
        self.recipients = recipients
        self.message = message
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.requireTLS = requireTLS
    }
}

/// A message the SMTP server did not accept, or could not be reached for: libcurl's code and message.
public struct MailTransferError: Error, CustomStringConvertible, Equatable {
    /// The server as `scheme://host:port`: never the credentials.
    public var server: String
    /// The `CURLcode` (e.g. 7 = could not connect, 28 = timed out, 55 = the server refused a recipient or the data).
    public var code: Int
    public var message: String

    public var description: String { "\(server): \(message) (curl error \(code))" }
}

extension HTTPClient {
    /// Sends one message over SMTP and waits until the server accepted it (250 after DATA) or refused it.
    public func sendMail(_ request: MailRequest) async throws(MailTransferError) {
        // A thread of its own, as every transfer here: curl_easy_perform blocks.
        let result: Result<Void, MailTransferError> = await withCheckedContinuation { continuation in
            OSThread.detach(name: "smtp transfer") { continuation.resume(returning: Self.performMail(request)) }
        }
        try result.get()
    }

    private static func performMail(_ request: MailRequest) -> Result<Void, MailTransferError> {
        let server = Self.serverName(request.url)
        guard let handle = curl_easy_init() else {
            return .failure(MailTransferError(server: server, code: -1, message: "cannot create a curl handle"))
        }
        defer { curl_easy_cleanup(handle) }
        let source = MessageSource(request.message)
        let sourcePointer = Unmanaged.passUnretained(source).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(recipients) }
        for recipient in request.recipients { recipients = curl_slist_append(recipients, "<\(recipient)>") }

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorText in
            request.url.withCString { url in
                "<\(request.from)>".withCString { from in
                    (request.username ?? "").withCString { username in
                        (request.password ?? "").withCString { password in
                            cdb_curl_setopt_pointer(handle, CURLOPT_URL, url)
                            cdb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorText.baseAddress)
                            cdb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                            cdb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
                            cdb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
                            cdb_curl_setopt_pointer(handle, CURLOPT_MAIL_FROM, from)
                            cdb_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, recipients)
                            cdb_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
                            cdb_curl_setopt_callback(handle, CURLOPT_READFUNCTION, readMessage)
                            cdb_curl_setopt_pointer(handle, CURLOPT_READDATA, sourcePointer)
                            cdb_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.message.count))
                            // smtp:// upgrades with STARTTLS (when offered, or always); smtps:// is TLS from the first byte anyway.
                            cdb_curl_setopt_long(handle, CURLOPT_USE_SSL, Int((request.requireTLS ? CURLUSESSL_ALL : CURLUSESSL_TRY).rawValue))
                            if request.username != nil || request.password != nil {
                                cdb_curl_setopt_pointer(handle, CURLOPT_USERNAME, username)
                                cdb_curl_setopt_pointer(handle, CURLOPT_PASSWORD, password)
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
            return .failure(MailTransferError(server: server, code: Int(code.rawValue), message: message))
        }
        return .success(())
    }

    /// `scheme://host:port` of a URL, dropping any user information, path or query it carries.
    public static func serverName(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "(unparsable URL)"
        }
        return components.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }
}

/// The message being uploaded; only the transfer's own thread reads it.
private final class MessageSource {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }
}

private let readMessage: cdb_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let source = Unmanaged<MessageSource>.fromOpaque(context).takeUnretainedValue()
    let length = min(size * count, source.bytes.count - source.offset)
    guard length > 0 else { return 0 }  // 0 tells curl the message is complete
    source.bytes.withUnsafeBufferPointer { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + source.offset, byteCount: length)
    }
    source.offset += length
    return length
}
