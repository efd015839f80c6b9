import Glibc

/// Reads a file line by line through a fixed-size buffer, so a replay streams a file of any
/// size in constant memory.
///
/// Reads are plain 64 KiB `read`s of a local file; they return in microseconds, so running them
/// on the cooperative pool is harmless (unlike network calls, which get threads of their own).
struct LineReader {
    private let descriptor: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEndOfFile = false
    private var isFirstLine = true
    private static let chunkSize = 1 << 16

    /// Opens `path`; throws `MarketFeedError.unreadableFile` with the system's reason.
    init(path: String) throws(MarketFeedError) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unreadableFile(path: path, reason: errno == ENOENT ? "no such file" : Self.systemReason())
        }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            Glibc.close(descriptor)
            throw .unreadableFile(path: path, reason: "it is a directory")
        }
        self.path = path
        buffer.reserveCapacity(Self.chunkSize * 2)
    }

    /// Calls `body` with the next line's bytes (without `\n`, `\r\n` or a leading UTF-8 BOM);
    /// returns nil at the end of the file.
    mutating func nextLine<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let lineStart = start
                start = newline + 1
                return try line(from: lineStart, to: newline, body)
            }
            if atEndOfFile {
                guard start < buffer.count else { return nil }
                let lineStart = start
                start = buffer.count
                return try line(from: lineStart, to: buffer.count, body)
            }
            try refill()
        }
    }

    private mutating func line<Result>(
        from lower: Int, to upper: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) throws -> Result {
        var lower = lower
        var upper = upper
        if upper > lower, buffer[upper - 1] == UInt8(ascii: "\r") { upper -= 1 }
        if isFirstLine {
            isFirstLine = false
            if upper - lower >= 3, buffer[lower] == 0xEF, buffer[lower + 1] == 0xBB, buffer[lower + 2] == 0xBF {
                lower += 3
            }
        }
        return try buffer.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[lower..<upper]))
        }
    }

    private mutating func refill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let kept = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.chunkSize))
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + kept, Self.chunkSize) }
        } while count < 0 && errno == EINTR
        buffer.removeLast(Self.chunkSize - max(count, 0))
        guard count >= 0 else { throw MarketFeedError.unreadableFile(path: path, reason: Self.systemReason()) }
        if count == 0 { atEndOfFile = true }
    }

    /// Closes the file.
    func close() {
        Glibc.close(descriptor)
    }

    private static func systemReason() -> String {
        String(cString: strerror(errno))
    }
}
