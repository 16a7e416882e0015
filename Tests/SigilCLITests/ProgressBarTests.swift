import Foundation
import SigilHTTP
import Synchronization
import Testing

@testable import SigilCLI

@Suite("sigil call's progress bar")
struct ProgressBarTests {
    @Test(
        "sizes in binary units with one decimal",
        arguments: [
            (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (20 << 20, "20.0 MiB"),
            ((3 << 30) + (1 << 29), "3.5 GiB"),
        ])
    func sizes(bytes: Int, text: String) {
        #expect(ProgressBar.size(bytes) == text)
    }

    @Test("a line: direction, amount, bar and percentage; without a total only the amount")
    func lines() {
        #expect(
            ProgressBar.line(TransferProgress(direction: .upload, bytes: 12 << 20, total: 20 << 20), width: 10)
                == "upload   12.0 MiB / 20.0 MiB [######----]  60%")
        #expect(
            ProgressBar.line(TransferProgress(direction: .download, bytes: 20 << 20, total: 20 << 20), width: 10)
                == "download 20.0 MiB / 20.0 MiB [##########] 100%")
        #expect(
            ProgressBar.line(TransferProgress(direction: .download, bytes: 0, total: 5 << 20), width: 4)
                == "download 0 B / 5.0 MiB [----]   0%")
        #expect(
            ProgressBar.line(TransferProgress(direction: .download, bytes: 5 << 20, total: nil)) == "download 5.0 MiB")
    }

    @Test(
        "drawn only over 4 MiB; redrawn in place; the answer after an upload on a line of its own; finished with a newline"
    )
    func drawing() {
        let written = Mutex<[String]>([])
        let bar = ProgressBar { text in written.withLock { $0.append(text) } }
        bar.update(TransferProgress(direction: .upload, bytes: 1 << 20, total: 4 << 20))
        bar.finish()
        #expect(written.withLock { $0 }.isEmpty, "4 MiB or less: nothing")

        bar.update(TransferProgress(direction: .upload, bytes: 1 << 20, total: 8 << 20))
        bar.update(TransferProgress(direction: .upload, bytes: 2 << 20, total: 8 << 20))  // within 100 ms: skipped
        bar.update(TransferProgress(direction: .upload, bytes: 8 << 20, total: 8 << 20))  // complete: drawn
        bar.update(TransferProgress(direction: .download, bytes: 5 << 20, total: nil))
        bar.finish()
        let lines = written.withLock { $0 }
        #expect(lines.count == 4, "\(lines)")
        #expect(lines[0].hasPrefix("\rupload   1.0 MiB / 8.0 MiB ["))
        #expect(lines[1].hasPrefix("\rupload   8.0 MiB / 8.0 MiB ["))
        #expect(lines[2] == "\ndownload 5.0 MiB\u{1B}[K")
        #expect(lines[3] == "\n")
    }
}
