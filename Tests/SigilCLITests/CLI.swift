import Foundation
import Testing

/// Runs the real `sigil` binary in a private home folder, with its vault and key file there.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    let home: String
    var environment: [String: String]
    /// Everything every run printed, for the leak scan.
    nonisolated(unsafe) static var transcript: [String] = []

    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["SIGIL_BINARY"] { return path }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sigil")
                .path,
            Bundle.main.bundleURL.appendingPathComponent("sigil").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sigil").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../.build/debug/sigil"
            ).standardized.path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }()

    init() {
        home = NSTemporaryDirectory() + "sigil-cli-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        environment = [
            "HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
            "SIGIL_VAULT": home + "/vault.db", "SIGIL_KEY_FILE": home + "/master.key", "SIGIL_ACTOR": "cli-test",
        ]
    }

    var vaultPath: String { environment["SIGIL_VAULT"]! }
    var keyPath: String { environment["SIGIL_KEY_FILE"]! }

    /// Runs `sigil arguments...`; output goes through files, so large outputs cannot deadlock.
    @discardableResult
    func run(
        _ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
        in directory: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = environment.merging(extra) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? home)
        let id = UInt64.random(in: 0...UInt64.max)
        let outPath = home + "/.out-\(id)"
        let errPath = home + "/.err-\(id)"
        let inPath = home + "/.in-\(id)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
        defer { for path in [outPath, errPath, inPath] { try? FileManager.default.removeItem(atPath: path) } }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        try process.run()
        process.waitUntilExit()
        let result = Result(
            status: process.terminationStatus,
            stdout: try String(contentsOfFile: outPath, encoding: .utf8),
            stderr: try String(contentsOfFile: errPath, encoding: .utf8)
        )
        Self.transcriptLock.withLock { Self.transcript.append(result.output) }
        return result
    }

    static let transcriptLock = NSLock()

    /// Runs and expects success.
    @discardableResult
    func ok(
        _ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Result {
        let result = try run(arguments, stdin: stdin, environment: extra)
        #expect(
            result.status == 0, "sigil \(arguments.joined(separator: " ")) failed: \(result.stderr)",
            sourceLocation: sourceLocation)
        return result
    }

    /// The example configuration copied into this home, with its secret file.
    func copyExample() throws -> String {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../examples"
        ).standardized.path
        let target = home + "/examples"
        try FileManager.default.copyItem(atPath: examples, toPath: target)
        return target + "/sigil.yaml"
    }
}
