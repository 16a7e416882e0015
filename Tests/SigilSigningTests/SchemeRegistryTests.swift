import Foundation
import SigilModel
import Testing

@testable import SigilSigning

@Suite("Scheme registry: one scheme per protocol, and no protocol switch anywhere else")
struct SchemeRegistryTests {
    @Test("every protocol has a scheme, and each scheme names its own protocol", arguments: AuthProtocol.allCases)
    func registry(_ authProtocol: AuthProtocol) {
        #expect(SchemeRegistry.type(of: authProtocol).authProtocol == authProtocol)
    }

    @Test("outside SchemeRegistry.swift no engine, token, executor or CLI source branches on the protocol")
    func noProtocolSwitch() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Sources"
        ).standardized
        // Branching on the protocol: `switch x.authProtocol`, `x.authProtocol == .jwt` (messages that
        // name the protocol are fine; an issued credential's kind is not the protocol).
        let pattern = try Regex(#"switch\s+[\w.]*authProtocol\b|authProtocol\s*[!=]=|[!=]=\s*[\w.]*authProtocol\b"#)
        var found: [String] = []
        for module in ["SigilSigning", "SigilTokens", "SigilHTTP", "SigilCLI"] {
            let folder = sources.appendingPathComponent(module)
            let files =
                FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
                ?? []
            for file in files where file.pathExtension == "swift" && file.lastPathComponent != "SchemeRegistry.swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where line.contains(pattern) {
                    found.append(
                        "\(module)/\(file.lastPathComponent):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))"
                    )
                }
            }
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }
}
