import SwiftASN1

/// PEM (RFC 7468) through swift-asn1's `PEMDocument`: the one reader of PEM text in every module.
public enum PEM {
    /// The DER of every `CERTIFICATE` block in `text`, in order; empty when `text` holds none or
    /// is not PEM.
    public static func certificates(in text: String) -> [[UInt8]] {
        guard let documents = try? PEMDocument.parseMultiple(pemString: text) else { return [] }
        return documents.filter { $0.discriminator == "CERTIFICATE" }.map(\.derBytes)
    }

    /// The DER of the first `CERTIFICATE` block in `text`.
    public static func firstCertificate(in text: String) -> [UInt8]? {
        certificates(in: text).first
    }
}
