import Foundation

/// Who holds a refresh or rotation lease: `host/pid/nonce`. The nonce tells apart brokers of one
/// process; the host and pid let a waiter on the same machine see that the holder no longer runs
/// (killed, or crashed in the middle of a refresh or a rotation step) and take its lease over
/// instead of waiting for it to end.
package enum LeaseHolder {
    package static func current() -> String {
        "\(hostName)/\(getpid())/\(UInt64.random(in: 0...UInt64.max))"
    }

    private static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown-host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .replacingOccurrences(of: "/", with: "_")
    }()

    /// Whether `holder` names a process of this machine that no longer runs. Holders of other
    /// machines (or in an older form) are never judged gone: their leases end on their own.
    package static func isGone(_ holder: String) -> Bool {
        let parts = holder.split(separator: "/")
        guard parts.count == 3, parts[0] == hostName, let pid = pid_t(parts[1]), pid > 0, pid != getpid() else {
            return false
        }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}
