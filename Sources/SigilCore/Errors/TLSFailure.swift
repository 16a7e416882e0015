/// What a TLS failure means, from BoringSSL's reason (`...:CERTIFICATE_VERIFY_FAILED:...`): the
/// meaning first, then BoringSSL's code. Shared by the executor and the token client, which catch
/// NIOSSL's errors and pass their text here.
public enum TLSFailure {
    /// BoringSSL's reason, with what it means first.
    public static func explain(_ reason: String) -> String {
        let known: [(String, String)] = [
            (
                "CERTIFICATE_VERIFY_FAILED",
                "the server's certificate is not trusted (system roots, or the named credential's trust.caBundle)"
            ),
            (
                "CERTIFICATE_REQUIRED",
                "the server demands a client certificate and the named credential has none (clientIdentity)"
            ),
            ("UNKNOWN_CA", "the server does not accept the client certificate's issuer"),
            ("CERTIFICATE_EXPIRED", "the server refused the client certificate as expired"),
            ("BAD_CERTIFICATE", "the server refused the client certificate"),
            ("UNSUPPORTED_PROTOCOL", "the server offers only TLS versions older than 1.2, which Sigil refuses"),
            ("PROTOCOL_VERSION", "the server offers only TLS versions older than 1.2, which Sigil refuses"),
            ("HANDSHAKE_FAILURE", "no protocol version or cipher suite in common (Sigil needs TLS 1.2 or later)"),
        ]
        let meaning = known.first { reason.contains($0.0) }?.1
        // BoringSSL's reason code: the run of capitals after "OPENSSL_internal:" (the rest of its
        // error line is a source path and numbers, not for people).
        var code: String?
        if let marker = reason.firstRange(of: "OPENSSL_internal:") {
            let run = reason[marker.upperBound...].prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
            if !run.isEmpty { code = String(run) }
        }
        let explained = [meaning, code.map { "BoringSSL: \($0)" }].compactMap { $0 }.joined(separator: "; ")
        return explained.isEmpty ? "the TLS handshake failed" : explained
    }
}
