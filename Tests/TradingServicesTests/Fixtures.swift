import Foundation
import StackContract
import TradingCore

/// 2023-11-14 22:13:20 UTC: late in a UTC day, so a test can cross midnight in minutes.
let start = Date(timeIntervalSince1970: 1_700_000_000)
/// 2023-11-15 00:00:00 UTC, the next UTC day.
let nextMidnight = Date(timeIntervalSince1970: 1_700_006_400)

func tick(_ id: String, _ price: Double, at time: Date, symbol: String = "BTCUSDT", source: TickSource = .synthetic) -> MarketTick {
    MarketTick(id: id, symbol: symbol, price: price, quantity: 1, eventTime: time, source: source)
}

func signal(
    _ id: String, _ side: OrderSide = .buy, symbol: String = "BTCUSDT", price: Double, at time: Date, pricedAt priceTime: Date? = nil
) -> TradingSignal {
    TradingSignal(id: id, symbol: symbol, side: side, confidence: 1, price: price, strategy: "test", reason: "test",
                  eventTime: time, originTickId: "tick-\(id)", priceTime: priceTime ?? time)
}

func order(_ id: String, quantity: Double, price: Double, pricedAt priceTime: Date, symbol: String = "BTCUSDT") -> OrderRequest {
    OrderRequest(id: id, signalId: "signal-\(id)", symbol: symbol, side: .buy, quantity: quantity, referencePrice: price,
                 priceTime: priceTime, maxSlippagePct: 0.01, reduceOnly: false, eventTime: priceTime, originTickId: "tick-\(id)")
}

/// What `env` makes of `environment` and the problems `finish()` reports (none: an empty list).
func readSettings<Settings>(_ environment: [String: String], _ reader: (EnvironmentReader) -> Settings) -> (Settings, problems: [String]) {
    let env = EnvironmentReader(environment)
    let settings = reader(env)
    do {
        try env.finish()
        return (settings, [])
    } catch {
        return (settings, error.problems)
    }
}
