import Foundation
public import SigilCore

/// The steps the engine took for one request, for `sigil sign --explain`: which callout, which
/// principal and why, which protocol, each header's template, and for SigV4 the canonical request
/// and string to sign. Every secret the engine read, and every value made from one, is replaced by
/// a short keyed fingerprint when the trace is rendered.
public final class SigningTrace: @unchecked Sendable {
    // Used by one decorate call at a time (the engine's own task); not shared across tasks.
    private var steps: [(name: String, detail: String)] = []
    private var secrets: [SecretBytes] = []

    public init() {}

    func step(_ name: String, _ detail: String) {
        steps.append((name, detail))
    }

    /// Remembers a value that must not appear in the rendered trace.
    func secret(_ value: SecretBytes) {
        if !value.isEmpty { secrets.append(value) }
    }

    func secret(_ value: String) {
        secret(SecretBytes(utf8: value))
    }

    /// The steps, one `name: detail` block each, with every secret replaced by `fingerprint(secret)`.
    public func render(fingerprint: (SecretBytes) -> String) -> String {
        var text = steps.map { "\($0.name): \($0.detail)" }.joined(separator: "\n")
        // Longest first, so a secret that contains another is replaced whole.
        for secret in secrets.sorted(by: { $0.count > $1.count }) {
            let value = secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            text = text.replacingOccurrences(of: value, with: "[secret \(fingerprint(secret))]")
        }
        return text
    }
}
