import Foundation
import HTTPClient
import StackContract
import TradeStore
import TradingCore

/// Why cdb_risk's `/status` could not be read, in words naming the URL.
public struct RiskStatusUnavailable: Error, CustomStringConvertible {
    public var description: String
}

/// cdb_risk's `/status` on its published port, as the contract's `RiskStatus`: the one place that reads it.
public enum RiskStatusSource {
    public static func fetch(baseURL base: String, timeout: Duration = .seconds(5)) async throws(RiskStatusUnavailable) -> RiskStatus {
        let url = base + "/status"
        let response: HTTPResponse
        do {
            response = try await HTTPClient().get(url, timeout: timeout)
        } catch {
            throw RiskStatusUnavailable(description: "cdb_risk's /status cannot be read: \(error)")
        }
        guard response.status == 200 else {
            throw RiskStatusUnavailable(description: "cdb_risk's /status answered \(response.status) at \(url): \(response.text.prefix(120))")
        }
        do {
            return try response.decode(RiskStatus.self, decoder: EventCoding.decoder)
        } catch {
            let problem = (error as? DecodingError)?.summary ?? "\(error)"
            throw RiskStatusUnavailable(description: "cdb_risk's /status at \(url) is not a RiskStatus document: \(problem)")
        }
    }
}
