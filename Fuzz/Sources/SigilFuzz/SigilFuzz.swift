import Foundation

// libFuzzer's entry point. One binary serves every target: SIGIL_FUZZ_TARGET names the parser
// (read once, at the first input), and each target gets the input's bytes. A target must never
// crash: thrown errors are the expected answer to bad input; a trap, a signal, a sanitizer
// report, a timeout or an out-of-memory is a finding. Properties that must hold on accepted input
// (the differential checks) fail with `FuzzCheck.fail`, which traps.

/// Every target, by the name SIGIL_FUZZ_TARGET and scripts/fuzz use.
let fuzzTargets: [(name: String, maximumBytes: Int, run: @Sendable (UnsafeBufferPointer<UInt8>) -> Void)] = [
    ("config", 64 << 10, ConfigTarget.run),
    ("template", 64 << 10, TemplateTarget.run),
    ("pem", 64 << 10, KeyTargets.pem),
    ("jwk", 64 << 10, KeyTargets.jwk),
    ("pkcs12", 64 << 10, PKCS12Target.run),
    ("certificate", 64 << 10, CertificateTarget.run),
    ("token-response", 64 << 10, TokenResponseTarget.run),
    ("sts-xml", 64 << 10, STSTarget.run),
    ("callout-url", 64 << 10, CalloutTarget.run),
    ("endpoint-url", 64 << 10, EndpointURLTarget.run),
    ("headers", 64 << 10, HeadersTarget.run),
    ("inbound", 64 << 10, InboundTarget.run),
    ("saml-response", 64 << 10, SAMLResponseTarget.run),
    ("command-output", 64 << 10, CommandOutputTarget.run),
    ("vault-url", 4 << 10, VaultURLTarget.run),
]

/// The target this process runs, chosen once from the environment.
let selectedTarget: (maximumBytes: Int, run: @Sendable (UnsafeBufferPointer<UInt8>) -> Void) = {
    let name = ProcessInfo.processInfo.environment["SIGIL_FUZZ_TARGET"] ?? ""
    guard let target = fuzzTargets.first(where: { $0.name == name }) else {
        let names = fuzzTargets.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(
            Data("SigilFuzz: set SIGIL_FUZZ_TARGET to one of: \(names) (got \"\(name)\")\n".utf8))
        exit(2)
    }
    return (target.maximumBytes, target.run)
}()

/// Before the first input: an unknown target stops here, not as a finding.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    _ = selectedTarget
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let target = selectedTarget
    // Bounded inputs: a run measures the parsers, not allocation of huge inputs.
    guard size <= target.maximumBytes else { return -1 }
    target.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

enum FuzzCheck {
    /// A property of accepted input does not hold: stop here, so libFuzzer saves the input.
    static func fail(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        FileHandle.standardError.write(Data("SigilFuzz property failed (\(file):\(line)): \(message())\n".utf8))
        fatalError("SigilFuzz property failed", file: file, line: line)
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes as text; invalid UTF-8 becomes U+FFFD, as `String(decoding:)` gives every parser.
    var text: String { String(decoding: self, as: UTF8.self) }
}
