import Foundation
import SharedTestData
import Testing

/// A line of a test source that names a place in the shared directory by itself.
struct SharedPathReference: Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    var text: String

    var description: String { "\(file):\(line): \(text)" }
}

/// The spellings by which a test could reach the shared directory without `SharedDirectory`. Assembled from
/// pieces so that this file, which the scan reads too, does not contain them.
let sharedPathSpellings = [".." + "/shared", "shared" + "/data", "shared" + "/seed"]

/// Every line of a `.swift` file under `root`/Tests that contains one of `sharedPathSpellings`, except in
/// `Tests/SharedTestData` (the one module allowed to know where the shared directory is). Paths are given
/// relative to `root`; also returns how many files were read, so an empty scan cannot pass for a clean one.
func sharedPathReferences(packageRoot root: URL) throws -> (files: Int, references: [SharedPathReference]) {
    let tests = root.appendingPathComponent("Tests").standardizedFileURL.path
    let helper = tests + "/SharedTestData/"
    guard let walker = FileManager.default.enumerator(atPath: tests) else { throw CocoaError(.fileReadNoSuchFile) }
    var files = 0
    var references: [SharedPathReference] = []
    for case let relative as String in walker where relative.hasSuffix(".swift") {
        let path = tests + "/" + relative
        if path.hasPrefix(helper) { continue }
        files += 1
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where sharedPathSpellings.contains(where: { line.contains($0) }) {
            references.append(SharedPathReference(file: "Tests/" + relative, line: index + 1,
                                                  text: line.trimmingCharacters(in: .whitespaces)))
        }
    }
    return (files, references)
}

@Suite("Default-layer tests stay inside the repository")
struct RepositoryBoundaryTests {
    @Test("no test source outside SharedTestData names a path in the shared directory")
    func noTestReachesOutside() throws {
        let scan = try sharedPathReferences(packageRoot: SharedDirectory.packageRoot)
        #expect(scan.files >= 50, "only \(scan.files) test sources found under Tests/")
        for reference in scan.references {
            Issue.record("\(reference) — read shared files through SharedDirectory (SharedTestData), in a SharedData… suite")
        }
    }

    @Test("the scan names the file and line of a planted reference and lets SharedTestData's own pass")
    func scanFindsPlantedReference() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("boundary-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let planted = root.appendingPathComponent("Tests/SomeTests")
        let helper = root.appendingPathComponent("Tests/SharedTestData")
        for directory in [planted, helper] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        let reference = "    let bars = \"" + sharedPathSpellings[0] + "/data/bars.csv\""
        try "import Testing\n\n\(reference)\n".write(to: planted.appendingPathComponent("Planted.swift"), atomically: true, encoding: .utf8)
        try "\(reference)\n".write(to: helper.appendingPathComponent("Allowed.swift"), atomically: true, encoding: .utf8)
        try "let clean = 1\n".write(to: planted.appendingPathComponent("Clean.swift"), atomically: true, encoding: .utf8)

        let scan = try sharedPathReferences(packageRoot: root)
        #expect(scan.files == 2)
        #expect(scan.references == [SharedPathReference(file: "Tests/SomeTests/Planted.swift", line: 3,
                                                        text: reference.trimmingCharacters(in: .whitespaces))])
    }
}
