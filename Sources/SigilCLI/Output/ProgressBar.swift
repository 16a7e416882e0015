import Foundation
import SigilHTTP
import Synchronization

/// A one-line progress display on standard error for `sigil call`, shown only for transfers over
/// ``threshold`` bytes and redrawn at most every 100 ms (the caller decides whether standard error
/// is a terminal).
final class ProgressBar: Sendable {
    static let threshold = 4 << 20

    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var direction: TransferProgress.Direction?
    }

    private let state = Mutex(State())
    private let write: @Sendable (String) -> Void

    init(write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.write = write
    }

    /// Redraws the line when the transfer is large enough and the last draw is old enough, or it is
    /// complete.
    func update(_ progress: TransferProgress) {
        guard max(progress.total ?? 0, progress.bytes) > Self.threshold else { return }
        let now = ContinuousClock.now
        let prefix = state.withLock { state -> String? in
            let complete = progress.total == progress.bytes
            // The answer after an upload starts a line of its own.
            let newLine = state.direction != nil && state.direction != progress.direction
            if !complete, !newLine, let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            state.direction = progress.direction
            return newLine ? "\n" : "\r"
        }
        // ESC [ K clears what a longer earlier line left.
        if let prefix { write(prefix + Self.line(progress) + "\u{1B}[K") }
    }

    /// Ends the line, if one was drawn.
    func finish() {
        if state.withLock({ $0.direction != nil }) { write("\n") }
    }

    /// `upload     12.0 MiB / 20.0 MiB [############--------]  60%`, or without a known total
    /// `download   12.0 MiB`.
    static func line(_ progress: TransferProgress, width: Int = 30) -> String {
        let direction = (progress.direction == .upload ? "upload" : "download").padding(
            toLength: 9, withPad: " ", startingAt: 0)
        guard let total = progress.total, total > 0 else { return direction + size(progress.bytes) }
        let fraction = min(1, Double(progress.bytes) / Double(total))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(Int((fraction * 100).rounded(.down)))
        return direction + size(progress.bytes) + " / " + size(total) + " [" + bar + "] "
            + String(repeating: " ", count: 3 - percent.count) + percent + "%"
    }

    /// Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `20.0 MiB`, `3.2 GiB`.
    static func size(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded(.down))
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
