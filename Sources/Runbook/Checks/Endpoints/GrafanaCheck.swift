import DockerClient
import Foundation
import HTTPClient
import StackContract
import YAMLParser

/// `type: grafana`: the dashboard loads with the configured login (or Grafana is reported not deployed).
public struct GrafanaCheck: CheckType {
    public var url: String?
    public var dashboard: String

    public static let typeName = "grafana"
    public static let keys = ["url", "dashboard"]

    public static func decode(from reader: CheckReader) -> GrafanaCheck? {
        GrafanaCheck(url: reader.optional("url", as: String.self), dashboard: reader.required("dashboard", as: String.self) ?? "")
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.grafana(url: url, dashboard: dashboard)
    }
}

extension CheckContext {
    fileprivate func grafana(url: String?, dashboard: String) async throws -> CheckOutcome {
        // Without a registry Grafana cannot be deployed; that is reported, never passed.
        if let engine = try? DockerEngine(environment: environment, project: runbook.project),
           let containers = try? await engine.containers(), !containers.isEmpty,
           !containers.contains(where: { $0.service == "cdb_grafana" }) {
            return .skip("not deployed: no cdb_grafana container in project '\(runbook.project)'")
        }
        let base = grafanaURL(url)
        let user = environment["GRAFANA_USER"] ?? "admin"
        let password = environment["GRAFANA_PASSWORD"] ?? ""
        let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
        let request = HTTPRequest(method: "GET", url: "\(base)/api/dashboards/uid/\(dashboard)",
                                  headers: [("Authorization", "Basic \(credentials)")], timeout: .seconds(5))
        let response = try await HTTPClient().send(request)
        switch response.status {
        case 200:
            let title = JSONValue(json: response.body)?.string(["dashboard", "title"]) ?? dashboard
            return .pass("dashboard '\(title)' (uid \(dashboard)) loads")
        case 401, 403: return .fail("\(base) refused \(user)'s login (\(response.status)): check GRAFANA_USER/GRAFANA_PASSWORD")
        case 404: return .fail("\(base) has no dashboard with uid \(dashboard): is provisioning mounted?")
        default: return .fail("\(base)/api/dashboards/uid/\(dashboard) answered \(response.status)")
        }
    }
}
