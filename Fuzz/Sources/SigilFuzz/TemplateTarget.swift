@testable import SigilCore
@testable import SigilModel
@testable import SigilSigning

/// `template`: a merge-field template (a custom header's value, or a body with merge fields), as
/// `Routes` parses it and the engine renders it. Input: the template's text.
enum TemplateTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let template: MergeTemplate
        do {
            template = try MergeTemplate(parsing: input.text)
        } catch {
            return
        }
        _ = template.hasMergeFields
        _ = template.references
        let rendered: SecretBytes
        do {
            rendered = try template.render(resolve)
        } catch {
            return
        }
        // As the engine sets a rendered custom header (control characters refused).
        var headers: [(name: String, value: String)] = [("X-Fuzz", "before")]
        try? SigningEngine.set(&headers, name: "X-Fuzz", value: rendered, credential: "Api")
        // A template without merge fields is its own text, byte for byte.
        if !template.hasMergeFields {
            let same = rendered.withUnsafeBytes { $0.elementsEqual(input.text.utf8) }
            if !same { FuzzCheck.fail("a template without merge fields rendered as other text") }
        }
    }

    /// The values a principal of external credential Api would supply.
    static func resolve(_ reference: MergeReference) throws -> SecretBytes {
        switch reference {
        case .userName: return SecretBytes(utf8: "alice@example.com", lockingMemory: false)
        case .password: return SecretBytes(utf8: "p@ss:wörd/ü", lockingMemory: false)
        case .oauthToken: return SecretBytes(utf8: "eyJhbGciOiJub25lIn0.e30.", lockingMemory: false)
        case .authorizationHeaderValue: return SecretBytes(utf8: "Basic YWxpY2U6cGFzcw==", lockingMemory: false)
        case .field(let credential, let name):
            guard credential == "Api" else {
                throw SigilError(.invalidRequest, "\(reference) names external credential \(credential), not Api")
            }
            switch name {
            case "apiKey": return SecretBytes(utf8: "k-1234567890", lockingMemory: false)
            case "binary": return SecretBytes(copying: [0x00, 0x0A, 0x0D, 0xFF, 0x7F], lockingMemory: false)
            case "empty": return SecretBytes(copying: [UInt8](), lockingMemory: false)
            default: throw SigilError(.invalidRequest, "\(reference): no secret or parameter \(name)")
            }
        }
    }
}
