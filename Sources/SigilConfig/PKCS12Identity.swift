import NIOSSL
import SigilCore
import SigilModel

/// Where a PKCS#12 client identity comes from: the bundle (`file:` or `stdin`, read as bytes) and
/// its password (any reference; none for a bundle without one). Both are secrets.
struct PKCS12Reference: Sendable, Hashable {
    var bundle: SecretReference
    var password: SecretReference?
}

/// A PKCS#12 bundle unpacked at apply (BoringSSL's `PKCS12_parse`, through NIOSSL): its chain
/// becomes the named credential's public `clientCertificate` and its key the sealed `privateKey`
/// secret (DER), so neither the bundle nor its password is stored, and everything downstream
/// (sealing, export, expiry display, the TLS handshake) treats it like a PEM identity.
enum PKCS12Identity {
    static func unpack(_ bundle: SecretBytes, password: SecretBytes?) throws(SigilError) -> (chainPEM: String, key: SecretBytes) {
        let parsed: NIOSSLPKCS12Bundle
        do {
            // BoringSSL reads the bundle from an array; this copy is wiped as soon as it is parsed.
            var bytes = bundle.withUnsafeBytes { Array($0) }
            defer { wipe(&bytes) }
            if let password {
                parsed = try password.withUnsafeBytes { passphrase in try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: passphrase) }
            } else {
                parsed = try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: [UInt8]?.none)
            }
        } catch {
            // BoringSSL's error stack names reasons, never the bytes or the password.
            if "\(error)".contains("INCORRECT_PASSWORD") {
                throw SigilError(.invalidConfiguration, "the password does not open the PKCS#12 bundle")
            }
            throw SigilError(.invalidConfiguration, "is not a PKCS#12 bundle that can be read (corrupt, or an unsupported encryption)")
        }
        let chain: String
        do {
            chain = try CertificateInfo.pem(derCertificates: parsed.certificateChain.map { try $0.toDERBytes() })
        } catch let error as CertificateInfoError {
            throw SigilError(.invalidConfiguration, "the PKCS#12 bundle's certificate chain \(error.problem)")
        } catch {
            throw SigilError(.invalidConfiguration, "the PKCS#12 bundle's certificate chain cannot be read")
        }
        do {
            var der = try parsed.privateKey.derBytes
            defer { wipe(&der) }
            return (chain, SecretBytes(copying: der))
        } catch {
            throw SigilError(.invalidConfiguration, "the PKCS#12 bundle's private key cannot be read")
        }
    }

    /// Best effort: Swift may have copied the array before, but this copy does not outlive us.
    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}
