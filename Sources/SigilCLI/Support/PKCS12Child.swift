import Foundation
import SigilConfig
import SigilCore
import SigilModel

/// Opens PKCS#12 bundles in a child `sigil` process (see ``PKCS12Identity/isolate(with:)``): the
/// bundle and its password go over the child's standard input (never argv), the chain and key
/// come back over its standard output; a child that stops (NIOSSL's `fatalError`) is reported as
/// a bundle that cannot be opened.
public enum PKCS12Child {
    /// The hidden first argument that makes `sigil` the child.
    public static let argument = "__unpack-pkcs12"

    /// Makes this process open bundles through a child of its own executable.
    public static func install() {
        PKCS12Identity.isolate { bundle, password throws(SigilError) in try unpack(bundle, password: password) }
    }

    /// The child: reads one request from standard input, answers on standard output. Returns the
    /// exit status (1 with the reason on standard error when the bundle is refused).
    public static func run() -> Int32 {
        var input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        defer { input.wipe() }
        var reader = Frames(input)
        guard let bundle = reader.next(), let flag = reader.next() else { return 2 }
        let password = flag == [1] ? reader.next() : nil
        do {
            let (chain, key) = try PKCS12Identity.unpackInProcess(
                SecretBytes(copying: bundle), password: password.map { SecretBytes(copying: $0) })
            var output = Frames.encode(Array(chain.utf8))
            output += key.withUnsafeBytes { Frames.encode(Array($0)) }
            defer { output.wipe() }
            FileHandle.standardOutput.write(Data(output))
            return 0
        } catch {
            FileHandle.standardError.write(Data(error.reason.utf8))
            return 1
        }
    }

    static func unpack(_ bundle: SecretBytes, password: SecretBytes?) throws(SigilError) -> (
        chainPEM: String, key: SecretBytes
    ) {
        var input = bundle.withUnsafeBytes { Frames.encode(Array($0)) }
        input += Frames.encode(password == nil ? [0] : [1])
        if let password { input += password.withUnsafeBytes { Frames.encode(Array($0)) } }
        defer { input.wipe() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = [argument]
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, stderr)
        do {
            try process.run()
            // The child reads all of its input before it writes anything: no deadlock.
            try stdin.fileHandleForWriting.write(contentsOf: input)
            try stdin.fileHandleForWriting.close()
        } catch {
            throw SigilError(
                .invalidConfiguration, "the PKCS#12 bundle could not be opened (the reader process did not start)")
        }
        var output = [UInt8](stdout.fileHandleForReading.readDataToEndOfFile())
        defer { output.wipe() }
        let problem = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 || process.terminationStatus == 1
        else {
            throw SigilError(
                .invalidConfiguration,
                "the PKCS#12 bundle cannot be opened: its private key matches none of its certificates, or it is malformed"
            )
        }
        guard process.terminationStatus == 0 else {
            throw SigilError(.invalidConfiguration, problem.isEmpty ? "the PKCS#12 bundle cannot be opened" : problem)
        }
        var reader = Frames(output)
        guard let chain = reader.next(), let key = reader.next() else {
            throw SigilError(
                .invalidConfiguration, "the PKCS#12 bundle could not be opened (the reader process answered nothing)")
        }
        return (String(decoding: chain, as: UTF8.self), SecretBytes(copying: key))
    }

    /// Length-prefixed byte strings (4 bytes, big-endian).
    struct Frames {
        let bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        static func encode(_ frame: [UInt8]) -> [UInt8] {
            let count = UInt32(frame.count)
            return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
                + frame
        }

        mutating func next() -> [UInt8]? {
            guard bytes.count - offset >= 4 else { return nil }
            let count = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard bytes.count - offset >= count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }
    }
}
