import Foundation
import SharedTestData
import Testing

@Suite("The shared directory's location")
struct SharedDirectoryTests {
    let root = URL(fileURLWithPath: "/work/project/")

    @Test("unset or empty, CDB_SHARED_DIR falls back to the directory beside the package")
    func defaultLocation() {
        for environment in [[:], ["CDB_SHARED_DIR": ""]] {
            let directory = SharedDirectory(environment: environment, packageRoot: root)
            #expect(directory.url.path == "/work/shared")
            #expect(directory.origin.contains("CDB_SHARED_DIR unset"))
        }
    }

    @Test("an absolute CDB_SHARED_DIR is taken as is, a relative one from the package root")
    func overriddenLocation() {
        let absolute = SharedDirectory(environment: ["CDB_SHARED_DIR": "/data/cdb-shared"], packageRoot: root)
        #expect(absolute.url.path == "/data/cdb-shared")
        #expect(absolute.origin == "CDB_SHARED_DIR=/data/cdb-shared")
        let relative = SharedDirectory(environment: ["CDB_SHARED_DIR": "fixtures/../elsewhere"], packageRoot: root)
        #expect(relative.url.path == "/work/project/elsewhere")
        #expect(relative.path(of: .runbookSeed) == "/work/project/elsewhere/seed/runbook-v1.0.md")
    }

    @Test("a missing file is an error naming the path, how the directory was chosen and the layer")
    func missingFile() throws {
        let directory = SharedDirectory(environment: ["CDB_SHARED_DIR": "/nonexistent/cdb-data-dir"])
        let error = #expect(throws: SharedFileMissing.self) { try directory.existingPath(of: .btcJanuary2022Bars) }
        #expect(error?.path == "/nonexistent/cdb-data-dir/data/btc-perp-2022-01_1m.csv")
        #expect(error?.origin == "CDB_SHARED_DIR=/nonexistent/cdb-data-dir")
        #expect(error?.description.contains("scripts/test.sh shared") == true)
        #expect(throws: SharedFileMissing.self) { try directory.text(of: .runbookSeed) }
    }

    @Test("the package root is the directory holding Package.swift")
    func packageRoot() {
        #expect(FileManager.default.fileExists(atPath: SharedDirectory.packageRoot.appendingPathComponent("Package.swift").path))
    }
}
