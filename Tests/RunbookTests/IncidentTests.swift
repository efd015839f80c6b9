import Foundation
import LocalServers
import Runbook
import Testing

@Suite("Incident playbooks: history, escalation, evidence")
struct IncidentTests {
    func context(_ fixture: EngineFixture, kind: String = "container-crash", service: String = "cdb_core", at time: Date = Date()) -> IncidentContext {
        let reports = fixture.directory.appendingPathComponent("reports").path
        let entry = IncidentEntry(id: "\(kind)-\(service)-\(time.timeIntervalSince1970)", kind: kind, service: service, time: time, outcome: nil)
        return IncidentContext(entry: entry, directory: reports + "/incidents/\(entry.id)", history: IncidentHistory(reportsDirectory: reports))
    }

    @Test("the first crash passes the escalation step; a second of the same service within the window escalates; another service does not")
    func escalation() async throws {
        var fixture = try await EngineFixture()
        let step = """
              - { id: escalation, title: E, seed: "5.1", playbook: container-crash, check: { type: escalation, window: 1h } }
        """
        let first = context(fixture, at: Date().addingTimeInterval(-1800))
        try first.history.append(first.entry)
        fixture.executor.command.incident = first
        // The incidents phase requires a playbook on each step; EngineFixture parses steps into preflight, which does not.
        #expect(try await fixture.run(step)["escalation"]?.status == .pass)

        let second = context(fixture)
        try second.history.append(second.entry)
        fixture.executor.command.incident = second
        let escalated = try #require(try await fixture.run(step)["escalation"])
        #expect(escalated.status == .fail)
        #expect(escalated.figures["escalate"] == 1)
        #expect(escalated.detail.contains("container-crash of cdb_core again within 1h (previous: \(first.entry.id)"))

        let other = context(fixture, service: "cdb_risk")
        try other.history.append(other.entry)
        fixture.executor.command.incident = other
        #expect(try await fixture.run(step)["escalation"]?.status == .pass)

        let old = context(fixture, service: "cdb_ws", at: Date().addingTimeInterval(-7200))
        try old.history.append(old.entry)
        let later = context(fixture, service: "cdb_ws")
        fixture.executor.command.incident = later
        #expect(try await fixture.run(step)["escalation"]?.status == .pass, "a crash two hours ago is outside the window")
    }

    @Test("evidence saves what can be read (SQL, /status) and names what cannot (no Docker engine here)")
    func evidence() async throws {
        var fixture = try await EngineFixture()
        try "SELECT 1 AS one, 'x' AS letter\n".write(to: fixture.directory.appendingPathComponent("probe.sql"), atomically: true, encoding: .utf8)
        let incident = context(fixture, kind: "data-stop", service: "cdb_ws")
        fixture.executor.command.incident = incident
        let result = try #require(try await fixture.run("""
              - { id: evidence, title: E, seed: "5.6", check: { type: evidence, services: [cdb_ws], logs: 50, stats: true, sql: [probe.sql] } }
        """)["evidence"])
        #expect(result.status == .pass)
        #expect(result.detail.contains("saved probe.tsv"))
        #expect(result.detail.contains("not available: Docker engine not reachable"))
        let saved = try String(contentsOfFile: incident.directory + "/probe.tsv", encoding: .utf8)
        #expect(saved == "one\tletter\n1\tx\n")
    }

    @Test("evidence is the operator's alone and never holds a secret: the database password and a URL's password are masked")
    func evidenceMasked() async throws {
        var fixture = try await EngineFixture()
        let password = try #require(fixture.executor.environment["POSTGRES_PASSWORD"])
        try #require(password.count >= SecretMask.minimumLength)
        try "SELECT '\(password)' AS leaked, 'smtp://alerts:Sm7p-pw9@mail.example.org' AS url\n"
            .write(to: fixture.directory.appendingPathComponent("leak.sql"), atomically: true, encoding: .utf8)
        let incident = context(fixture, kind: "data-stop", service: "cdb_ws")
        fixture.executor.command.incident = incident
        let result = try #require(try await fixture.run("""
              - { id: evidence, title: E, seed: "5.6", check: { type: evidence, services: [], stats: false, sql: [leak.sql] } }
        """)["evidence"])
        #expect(result.status == .pass, "\(result.detail)")
        let path = incident.directory + "/leak.tsv"
        let saved = try String(contentsOfFile: path, encoding: .utf8)
        #expect(saved == "leaked\turl\n****\tsmtp://alerts:****@mail.example.org\n")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: incident.directory)[.posixPermissions] as? Int == 0o700)
    }

    @Test("cdbctl incident: an unknown kind is a usage error with a suggestion; without an engine it asks for --service")
    func command() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let reports = try scratchDirectory("incident-reports").path
        let environment = ["DOCKER_HOST": "unix:///nonexistent/docker.sock"]
        let typo = try await CDBCtl.run(["incident", "container-crsh", "--reports-dir", reports], in: root, environment: environment)
        #expect(typo.status == 2)
        #expect(typo.output.contains("unknown incident 'container-crsh'") && typo.output.contains("did you mean 'container-crash'?"))
        let blind = try await CDBCtl.run(["incident", "container-crash", "--reports-dir", reports], in: root, environment: environment)
        #expect(blind.status == 2)
        #expect(blind.output.contains("cannot tell which service is in trouble"))
        #expect(blind.output.contains("name it with --service"))
    }

    @Test("cdbctl incident database-restore: refused before any step without a backup or without --yes; an option the playbook lacks is a usage error")
    func restoreRefused() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let reports = try scratchDirectory("incident-reports")
        let environment = ["DOCKER_HOST": "unix:///nonexistent/docker.sock"]
        func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            let result = try await CDBCtl.run(["incident"] + arguments + ["--reports-dir", reports.path], in: root, environment: environment)
            return (result.status, result.output)
        }
        let noBackup = try await run(["database-restore", "--yes"])
        #expect(noBackup.status == 2)
        #expect(noBackup.output.contains("refused: 'restore-database' destroys data and there is no verified backup in"), "\(noBackup.output)")

        let backups = reports.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        try writeVerifiedDump("dump", at: backups.appendingPathComponent("claire_de_binare-20261125T000000Z.dump"))
        let unconfirmed = try await run(["database-restore", "--recreate-volume"])
        #expect(unconfirmed.status == 2)
        #expect(unconfirmed.output.contains("refused: 'restore-volume-removed' destroys data; run again with --yes"), "\(unconfirmed.output)")
        // Nothing ran: no incident folder, no history line.
        #expect(!FileManager.default.fileExists(atPath: reports.appendingPathComponent("incidents").path))

        let misplaced = try await run(["data-stop", "--recreate-volume"])
        #expect(misplaced.status == 2)
        #expect(misplaced.output.contains("--recreate-volume: playbook 'data-stop' has no step that uses it"), "\(misplaced.output)")
    }

    @Test("every playbook of seed §5 has steps in runbook.yaml, each gathering evidence first")
    func playbooksComplete() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let definition = try RunbookDefinition.load(path: root.appendingPathComponent("runbook.yaml").path)
        for kind in IncidentKind.allCases {
            let steps = definition.phase(.incidents).steps.filter { $0.playbook == kind.rawValue }
            #expect(steps.count >= 3, "\(kind.rawValue)")
            #expect(steps.contains { $0.check.typeName == "evidence" }, "\(kind.rawValue) gathers no evidence")
        }
    }
}
