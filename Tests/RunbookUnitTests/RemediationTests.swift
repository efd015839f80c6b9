@testable import Runbook
import Testing

@Suite("Remediation order of a monitor cycle's alarms")
struct RemediationTests {
    @Test("critical alarms' playbooks come first, and each playbook runs once however many alarms call for it")
    func criticalFirstOnce() {
        let alarms = [
            Alarm(step: "lag", severity: .warning, message: "lag", playbook: "data-stop"),
            Alarm(step: "crash", severity: .critical, message: "crash", playbook: "container-crash"),
            Alarm(step: "flow", severity: .warning, message: "flow", playbook: "data-stop"),
            Alarm(step: "disk", severity: .warning, message: "disk", playbook: nil),
        ]
        #expect(Remediation.playbooks(for: alarms) == [.containerCrash, .dataStop])
    }
}
