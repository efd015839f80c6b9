import DockerClient
import Foundation
import YAMLParser

/// `type: host`: enough memory and free disk for the stack (seed §2.1).
public struct HostCheck: CheckType {
    public var memoryMinimum: Int64?
    public var diskMinimum: Int64?
    public var diskPath: String

    public static let typeName = "host"
    public static let keys = ["memory_min", "disk_min", "disk_path"]

    public static func decode(from reader: CheckReader) -> HostCheck? {
        HostCheck(memoryMinimum: reader.bytes("memory_min"), diskMinimum: reader.bytes("disk_min"),
                  diskPath: reader.optional("disk_path", as: String.self) ?? ".")
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        await context.host(memoryMinimum: memoryMinimum, diskMinimum: diskMinimum, path: diskPath)
    }
}

extension CheckContext {
    fileprivate func host(memoryMinimum: Int64?, diskMinimum: Int64?, path: String) async -> CheckOutcome {
        var problems: [String] = []
        var found: [String] = []
        var figures: [String: Double] = [:]
        if let memoryMinimum {
            // On Linux containers share the host's memory; Docker Desktop/WSL give the engine a VM of its own size.
            var available = Self.memoryAvailable() ?? 0
            if let engine = try? DockerEngine(environment: environment, project: runbook.project),
               let info = try? await engine.info(), info.memoryTotal > 0 {
                available = min(available == 0 ? info.memoryTotal : available, info.memoryTotal)
            }
            figures["memory_available_bytes"] = available
            let text = "memory available \(Self.gib(available)) (need \(Self.gib(Double(memoryMinimum))))"
            if available < Double(memoryMinimum) { problems.append(text) } else { found.append(text) }
        }
        if let diskMinimum {
            let directory = path.hasPrefix("/") ? path : projectDirectory + "/" + path
            var stats = statvfs()
            guard statvfs(directory, &stats) == 0 else {
                return .fail("cannot read free disk space of \(directory): \(String(cString: strerror(errno)))")
            }
            let free = Double(stats.f_bavail) * Double(stats.f_frsize)
            figures["disk_free_bytes"] = free
            let text = "disk free at \(directory) \(Self.gib(free)) (need \(Self.gib(Double(diskMinimum))))"
            if free < Double(diskMinimum) { problems.append(text) } else { found.append(text) }
        }
        return problems.isEmpty ? .pass(found.joined(separator: "; "), figures: figures)
            : .fail("too little: " + problems.joined(separator: "; "), figures: figures)
    }

    fileprivate static func memoryAvailable() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
        return kib * 1024
    }

    fileprivate static func gib(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }
}
