import Foundation
import Runbook
import SharedTestData
import Testing

/// The checklist items of seed §2–4: checkbox lines, bold item headings, and the rows of the §4.2 alarm table.
func seedItems() throws -> [(section: String, text: String)] {
    let seed = try SharedDirectory.current.text(of: .runbookSeed)
    var items: [(String, String)] = []
    var section = ""
    for line in seed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if line.hasPrefix("## ") || line.hasPrefix("### ") {
            section = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            continue
        }
        guard ["2.", "3.", "4."].contains(where: { section.hasPrefix($0) }) else { continue }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("- [ ] ") {
            items.append((section, String(trimmed.dropFirst(6))))
        } else if trimmed.hasPrefix("**"), let end = trimmed.dropFirst(2).range(of: "**") {
            items.append((section, String(trimmed[..<end.upperBound])))
        } else if section == "4.2", trimmed.hasPrefix("| "), !trimmed.hasPrefix("| Alarm"), !trimmed.hasPrefix("|---") {
            items.append((section, trimmed.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""))
        }
    }
    return items
}

/// Reads the seed from the shared directory, so it belongs to the shared layer.
@Suite("Every seed §2–4 checklist item maps to a runbook step")
struct SharedDataSeedCoverageTests {
    @Test("the seed's checklists are found (so this test cannot pass on an empty list)")
    func itemsAreFound() throws {
        let items = try seedItems()
        #expect(items.count >= 60)
        #expect(items.contains { $0.text == "Mindestens 4 GB RAM für Container verfügbar" })
        #expect(items.contains { $0.text == "No new signals > 1h" })
    }

    @Test("each item is quoted by a step's covers")
    func everyItemCovered() throws {
        let definition = try RunbookDefinition.load(path: repositoryRoot.appendingPathComponent("runbook.yaml").path)
        let covered = Set(definition.allSteps.flatMap(\.covers))
        let missing = try seedItems().filter { !covered.contains($0.text) }
        #expect(missing.isEmpty, "not mapped to a step: \(missing.map { "§\($0.section) \($0.text)" })")
    }

    @Test("every step names an existing seed section")
    func seedSectionsExist() throws {
        let definition = try RunbookDefinition.load(path: repositoryRoot.appendingPathComponent("runbook.yaml").path)
        let seed = try SharedDirectory.current.text(of: .runbookSeed)
        let sections = Set(seed.split(separator: "\n").filter { $0.hasPrefix("### ") }.compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        #expect(sections.contains("7.2") && sections.contains("2.5"))
        let unknown = definition.allSteps.filter { !sections.contains($0.seed) }.map { "\($0.id): \($0.seed)" }
        #expect(unknown.isEmpty)
    }
}
