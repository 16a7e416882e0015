import Foundation
public import SigilCore

/// The steps the engine took for one request, for `sigil sign --explain`: which callout, which
/// principal and why, which protocol, each header's template, and for SigV4 the canonical request
/// and string to sign.
///
/// Redacted by construction: a step's detail is built from parts, and every value made from a
/// secret (a generated Authorization, a filled-in merge field, a SigV4 signature, the value of a
/// header that carries a secret) is added as a secret part, rendered as a short keyed fingerprint.
/// Nothing is searched for and replaced afterwards, so a short secret cannot show through and
/// text that merely resembles a secret is not hidden.
public final class SigningTrace: @unchecked Sendable {
    /// A piece of a step's detail.
    enum Part {
        case text(String)
        /// Made from a secret: rendered as `[secret FINGERPRINT]`.
        case secret(SecretBytes)
    }

    // Used by one decorate call at a time (the engine's own task); not shared across tasks.
    private var steps: [(name: String, parts: [Part])] = []
    /// Headers (lowercase) whose values are made from secrets: shown by fingerprint wherever they
    /// appear (SigV4's canonical request lists every signed header's value).
    private var secretHeaders: Set<String> = ["authorization", "x-amz-security-token", "proxy-authorization", "cookie"]

    public init() {}

    func step(_ name: String, _ detail: String) {
        steps.append((name, [.text(detail)]))
    }

    func step(_ name: String, _ parts: [Part]) {
        steps.append((name, parts))
    }

    /// Marks header `name` as carrying a value made from a secret.
    func secretHeader(_ name: String) {
        secretHeaders.insert(name.lowercased())
    }

    /// SigV4's canonical request: each `name:value` header line of a header that carries a secret
    /// shows its value as a fingerprint.
    func canonicalRequest(_ text: String) {
        var parts: [Part] = [.text("\n")]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { parts.append(.text("\n")) }
            if let colon = line.firstIndex(of: ":"), secretHeaders.contains(String(line[..<colon])) {
                parts.append(.text(String(line[...colon])))
                parts.append(
                    .secret(SecretBytes(utf8: String(line[line.index(after: colon)...]), lockingMemory: false)))
            } else {
                parts.append(.text(String(line)))
            }
        }
        step("SigV4 canonical request", parts)
    }

    /// The steps, one `name: detail` block each, every secret part as `[secret fingerprint(part)]`.
    public func render(fingerprint: (SecretBytes) -> String) -> String {
        steps.map { step in
            step.name + ": "
                + step.parts.map { part in
                    switch part {
                    case .text(let text): text
                    case .secret(let value): "[secret \(fingerprint(value))]"
                    }
                }.joined()
        }.joined(separator: "\n")
    }
}
