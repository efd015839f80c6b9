import Foundation

/// The files the shared-data test layer reads from the shared directory. That directory lives beside the
/// repository and is never copied into it, so a clone on its own has none of them.
public enum SharedFile: String, CaseIterable, Sendable {
    /// The seed runbook the executable runbook's steps quote (`covers:`) and cite (`seed:`).
    case runbookSeed = "seed/runbook-v1.0.md"
    /// January 2022 one-minute BTC perpetual bars, 45,031 of them.
    case btcJanuary2022Bars = "data/btc-perp-2022-01_1m.csv"
}

/// Where the shared directory is: `CDB_SHARED_DIR` if set, else `<package root>/../shared`. The one place a test
/// finds the shared directory, so `scripts/test.sh` can point every test at it (or, in the default layers, at a
/// path that does not exist) with one variable.
public struct SharedDirectory: Sendable, Equatable {
    /// The environment variable that overrides the default location.
    public static let environmentVariable = "CDB_SHARED_DIR"

    /// The package root, found from this file (`Tests/SharedTestData/` is two levels below it).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory as this test process sees it.
    public static let current = SharedDirectory(environment: ProcessInfo.processInfo.environment)

    /// The resolved directory (absolute, standardized).
    public let url: URL
    /// How it was chosen, for messages: the variable and its value, or the default.
    public let origin: String

    /// Resolves the directory from `environment`; a relative `CDB_SHARED_DIR` is taken from the package root,
    /// as `scripts/test.sh` (which runs there) reads it.
    public init(environment: [String: String], packageRoot: URL = Self.packageRoot) {
        if let value = environment[Self.environmentVariable], !value.isEmpty {
            url = URL(fileURLWithPath: value, relativeTo: packageRoot).absoluteURL.standardizedFileURL
            origin = "\(Self.environmentVariable)=\(value)"
        } else {
            url = packageRoot.appendingPathComponent("../shared").standardizedFileURL
            origin = "default <package root>/../shared, \(Self.environmentVariable) unset"
        }
    }

    /// The path of `file` inside the directory, whether or not it exists (for a service's environment, say).
    public func path(of file: SharedFile) -> String {
        url.appendingPathComponent(file.rawValue).path
    }

    /// The path of `file`, which must exist: a shared-layer test calls this first and fails with the error (a
    /// missing file never lets such a test pass without having checked anything).
    public func existingPath(of file: SharedFile) throws(SharedFileMissing) -> String {
        let path = path(of: file)
        guard FileManager.default.isReadableFile(atPath: path) else { throw SharedFileMissing(path: path, origin: origin) }
        return path
    }

    /// The contents of `file` as UTF-8 text.
    public func text(of file: SharedFile) throws -> String {
        try String(contentsOfFile: existingPath(of: file), encoding: .utf8)
    }
}

/// A shared-layer test's input is not there: which path, how it was chosen, and what to do about it.
public struct SharedFileMissing: Error, CustomStringConvertible {
    /// The path that was looked at.
    public let path: String
    /// How the shared directory was chosen (see `SharedDirectory.origin`).
    public let origin: String

    /// One line naming the path, its origin and the layer the test belongs to.
    public var description: String {
        "shared test data missing: \(path) (\(origin)); this test belongs to the shared layer "
            + "(`scripts/test.sh shared`), which needs the shared directory beside the repository or "
            + "\(SharedDirectory.environmentVariable) pointing at it"
    }
}
