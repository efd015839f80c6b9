import Logging
import ServiceHost
import Testing

@Suite("Service log lines")
struct ServiceLogHandlerTests {
    @Test("secrets are masked in log messages and metadata")
    func logRedaction() {
        let handler = ServiceLogHandler(label: "cdb_risk", level: .info, secrets: ["hunter22", "s3cr3t-token"])
        #expect(handler.redact("connecting with password hunter22 and token s3cr3t-token") == "connecting with password *** and token ***")
    }
}
