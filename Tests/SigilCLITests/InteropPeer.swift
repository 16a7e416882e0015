import Foundation

/// A Python peer from `Tests/Interop/`, started for one test: it writes its information as JSON to
/// `infoPath` once it listens, and runs until its standard input closes (each script ends the
/// processes it started itself).
final class InteropPeer<Info: Decodable> {
    let process = Process()
    let stdin = Pipe()
    let info: Info

    /// Runs `python3 Tests/Interop/SCRIPT ARGUMENTS...` and waits (at most 30 s) for `infoPath`.
    init(_ script: String, _ arguments: [String], infoPath: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", interop + "/" + script] + arguments
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: infoPath) && process.isRunning {
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard let data = FileManager.default.contents(atPath: infoPath) else {
            try? stdin.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "\(script) did not start"])
        }
        info = try JSONDecoder().decode(Info.self, from: data)
    }

    /// Closes its standard input, which ends it, and waits for it.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Runs `python3 Tests/Interop/SCRIPT ARGUMENTS...` once with `input` on its standard input and
/// returns its standard output (the one-shot peers: send_request.py, saml_idp.py).
func runInterop(_ script: String, _ arguments: [String] = [], input: Data) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", interop + "/" + script] + arguments
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}
