/// Why a feed could not start or had to stop; each description says what failed, where, and
/// what to try.
public enum MarketFeedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Configuration values out of range, all problems at once.
    case invalidConfiguration(feed: String, problems: [String])
    /// A replay file could not be opened or read.
    case unreadableFile(path: String, reason: String)
    /// A replay line could not be turned into a tick (`file.csv:123: expected 6 columns, got 4`).
    case malformedLine(file: String, line: Int, problem: String)
    /// MEXC answered a subscription with something other than the channel name, e.g.
    /// `Not Subscribed successfully! [...]. Reason： Blocked!`.
    case subscriptionRejected(channel: String, serverMessage: String, url: String)
    /// MEXC did not acknowledge subscriptions within the ack timeout.
    case subscriptionAckTimeout(channels: [String], timeout: Duration, url: String)
    /// A connection failed `attempts` times in a row (only with `maxConsecutiveFailures` set).
    case connectionFailed(url: String, attempts: Int, lastError: String)

    /// What failed, where, and what to try.
    public var description: String {
        switch self {
        case .invalidConfiguration(let feed, let problems):
            return "invalid \(feed) configuration: " + problems.joined(separator: "; ")
        case .unreadableFile(let path, let reason):
            return "cannot read replay file \(path): \(reason)"
        case .malformedLine(let file, let line, let problem):
            return "\(file):\(line): \(problem)"
        case .subscriptionRejected(let channel, let serverMessage, let url):
            return "MEXC (\(url)) refused the subscription to \(channel): \"\(serverMessage)\"; "
                + "check that the symbol is listed on MEXC spot and written in upper case (BTCUSDT), "
                + "and that the channel is still offered (only .pb channels are served since 2025-08)"
        case .subscriptionAckTimeout(let channels, let timeout, let url):
            return "MEXC (\(url)) did not acknowledge the subscription to \(channels.joined(separator: ", ")) "
                + "within \(timeout.readable); check that the URL is MEXC's spot v3 WebSocket endpoint "
                + "and that the network allows WebSocket traffic"
        case .connectionFailed(let url, let attempts, let lastError):
            return "could not keep a connection to \(url) after \(attempts) consecutive attempts; "
                + "last error: \(lastError)"
        }
    }
}
