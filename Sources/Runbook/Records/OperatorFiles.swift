import Foundation
import StackContract

/// The one way cdbctl creates what it keeps for the operator (records, state, the audit log, evidence, backups,
/// archived logs, reports): directories 0700 and files 0600 whatever the umask, files written atomically. They
/// hold the books, container logs and the stack's environment, which are nobody else's to read.
public enum OperatorFiles {
    /// Creates `path` (and missing parents) 0700; an existing directory at `path` is tightened to 0700.
    public static func createPrivateDirectory(_ path: String) throws {
        var missing: [String] = []
        var candidate = URL(fileURLWithPath: path).standardizedFileURL.path
        while !candidate.isEmpty, candidate != "/", !FileManager.default.fileExists(atPath: candidate) {
            missing.append(candidate)
            candidate = URL(fileURLWithPath: candidate).deletingLastPathComponent().path
        }
        for directory in missing.reversed() where mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw ReportError(message: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        for directory in missing + [path] where chmod(directory, 0o700) != 0 {
            throw ReportError(message: "cannot make \(directory) private (0700): \(String(cString: strerror(errno)))")
        }
    }

    /// `path` created as above, and when it lies under `root` every directory from `root` down to it tightened too
    /// (an older, looser `reports/incidents` when a new incident's folder is made in it); its path.
    @discardableResult
    public static func createPrivateDirectory(_ path: String, under root: String) throws -> String {
        let rootPath = URL(fileURLWithPath: root).standardizedFileURL.path
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        guard target.hasPrefix(rootPath + "/") else {
            try createPrivateDirectory(target)
            return target
        }
        var current = rootPath
        try createPrivateDirectory(current)
        for component in target.dropFirst(rootPath.count + 1).split(separator: "/") {
            current += "/" + component
            try createPrivateDirectory(current)
        }
        return target
    }

    /// Writes `data` to `path` as 0600 through a temporary name beside it, renamed when complete: a reader never
    /// sees half a file, and a file that was looser before is replaced by a private one. No fsync, as before: a
    /// write must not block the cooperative pool on a busy disk.
    public static func writePrivateFile(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ReportError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
        var failure: String?
        if fchmod(descriptor, 0o600) != 0 || !writeAll(data, to: descriptor) { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ReportError(message: "cannot write \(path): \(failure)")
        }
    }

    /// `text` with `mask` applied, written as `writePrivateFile` does: how every record, report, log and piece of
    /// evidence is written.
    public static func writePrivateText(_ text: String, to path: String, masking mask: SecretMask) throws {
        try writePrivateFile(Data(mask.apply(text).utf8), to: path)
    }

    /// A file another program wrote (pg_dump, a COPY export) made 0600, as if cdbctl had written it.
    public static func makePrivateFile(_ path: String) throws {
        guard chmod(path, 0o600) == 0 else { throw ReportError(message: "cannot make \(path) private (0600): \(String(cString: strerror(errno)))") }
    }

    /// `value` as JSON the way every record is written (`ReportsDirectory.encoder`), masked, to `path`; its directory
    /// is created private, with those from `root` down tightened.
    public static func writePrivateJSON(_ value: some Encodable, to path: String, under root: String, masking mask: SecretMask) throws {
        try createPrivateDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path, under: root)
        try writePrivateText(String(decoding: try ReportsDirectory.encoder.encode(value), as: UTF8.self), to: path, masking: mask)
    }

    /// Appends `line` in one write (O_APPEND keeps concurrent lines whole); creates the file 0600, tightens a looser one.
    public static func appendPrivateLine(_ line: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ReportError(message: "cannot append to \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0, writeAll(line, to: descriptor) else {
            throw ReportError(message: "cannot append to \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func writeAll(_ data: Data, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
    }
}

/// Hides the stack's secrets in text cdbctl writes: the values of the catalogue's secret settings (passwords,
/// tokens) and the password of any `scheme://user:password@host` URL, each replaced by `****`.
public struct SecretMask: Sendable {
    /// Longest first, so a secret that contains another is hidden whole.
    public let secrets: [String]

    /// Shorter values would mask ordinary words and numbers of the output and hide nothing worth hiding.
    public static let minimumLength = 4
    public static let replacement = "****"
    /// Masks URL passwords only: for text written where no environment is known.
    public static let urlPasswordsOnly = SecretMask(secrets: [])

    public init(secrets: [String]) {
        // A JSON record holds a secret with quotes or backslashes escaped: that spelling is hidden too.
        let spellings = secrets.filter { $0.count >= Self.minimumLength }.flatMap { secret -> [String] in
            let quoted = (try? JSONEncoder().encode(secret)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return quoted.count >= 2 ? [secret, String(quoted.dropFirst().dropLast())] : [secret]
        }
        self.secrets = Set(spellings).sorted { ($0.count, $0) > ($1.count, $1) }
    }

    /// The secret settings' values in `environment` (the merged `.env` and process environment), and the
    /// passwords of the URLs among its values.
    public init(environment: [String: String]) {
        let names = SettingsCatalogue.all.filter { if case .secret = $0.kind { true } else { false } }.map(\.name)
        self.init(secrets: names.compactMap { environment[$0] } + environment.values.flatMap(Self.urlPasswords))
    }

    /// `text` with every secret and URL password replaced by `****`.
    public func apply(_ text: String) -> String {
        var masked = text
        for secret in secrets where masked.contains(secret) { masked = masked.replacingOccurrences(of: secret, with: Self.replacement) }
        for password in Self.urlPasswords(in: masked) where password != Self.replacement {
            masked = masked.replacingOccurrences(of: ":\(password)@", with: ":\(Self.replacement)@")
        }
        return masked
    }

    /// The `password` of each `scheme://user:password@` in `text`.
    static func urlPasswords(in text: String) -> [String] {
        var passwords: [String] = []
        var rest = text[...]
        while let scheme = rest.range(of: "://") {
            let authority = rest[scheme.upperBound...].prefix { !$0.isWhitespace && !"/\"'<>".contains($0) }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                let password = authority[authority.index(after: colon)..<at]
                if !password.isEmpty { passwords.append(String(password)) }
            }
            rest = rest[scheme.upperBound...]
        }
        return passwords
    }
}
