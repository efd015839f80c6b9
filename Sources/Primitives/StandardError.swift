#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File descriptor 2, written the way both the services' log lines and cdbctl's progress lines need it.
public enum StandardError {
    /// Writes `text` in one `write(2)` where the kernel takes it whole (a line is never interleaved with
    /// another); a closed or broken stderr drops it, where FileHandle would trap.
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                #if canImport(Glibc)
                Glibc.write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                Darwin.write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
