import CNIOBoringSSL
import CNIOBoringSSLShims
import Foundation
import SigilCore
import SigilModel

@testable import SigilConfig

/// `pkcs12`: a client identity bundle as `clientIdentity.pkcs12` gives it, unpacked as `apply` does.
/// Input: one byte L, then the password (L bytes; L = 255: no password at all), then the bundle's
/// DER. The chain an accepted bundle yields must read back as certificates.
///
/// NIOSSL stops the process (`fatalError`) on a bundle that BoringSSL opens without a certificate
/// matching its key or without a key. The `sigil` executable therefore opens bundles in a child
/// process (`PKCS12Identity.isolate(with:)`, Sources/SigilCLI/Support/PKCS12Child.swift) and reports
/// the child's failure. The harness opens them in process, so it leaves those bundles out, as the
/// child would fail on them (counted, not fuzzed further); SIGIL_FUZZ_PKCS12_IN_PROCESS=1 keeps them
/// in, to see the library's own behaviour.
enum PKCS12Target {
    static let modelsIsolation = ProcessInfo.processInfo.environment["SIGIL_FUZZ_PKCS12_IN_PROCESS"] != "1"

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard let first = input.first else { return }
        var rest = input.dropFirst()
        var password: [UInt8]?
        if first != 0xFF {
            let length = min(Int(first), rest.count)
            password = Array(rest.prefix(length))
            rest = rest.dropFirst(length)
        }
        let der = Array(rest)
        if modelsIsolation && stopsNIOSSL(der, password: password) { return }
        let identity: (chainPEM: String, key: SecretBytes)
        do {
            identity = try PKCS12Identity.unpack(
                SecretBytes(copying: der, lockingMemory: false),
                password: password.map { SecretBytes(copying: $0, lockingMemory: false) }
            )
        } catch {
            return
        }
        do {
            _ = try CertificateInfo.chain(pem: identity.chainPEM)
        } catch {
            FuzzCheck.fail("an accepted PKCS#12 bundle gave a chain that does not read back: \(error)")
        }
        if identity.key.count == 0 { FuzzCheck.fail("an accepted PKCS#12 bundle gave an empty key") }
    }

    /// Whether `NIOSSLPKCS12Bundle(buffer:passphrase:)` would stop the process on these bytes: the
    /// same BoringSSL calls, then its condition (parsed, but no certificate or no key).
    static func stopsNIOSSL(_ der: [UInt8], password: [UInt8]?) -> Bool {
        defer { ERR_clear_error() }
        let p12: OpaquePointer? = der.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, bytes.count) else { return nil }
            defer { BIO_free(bio) }
            return d2i_PKCS12_bio(bio, nil)
        }
        guard let p12 else { return false }
        defer { PKCS12_free(p12) }
        var key: OpaquePointer?
        var certificate: OpaquePointer?
        var authorities: OpaquePointer?
        let parsed: CInt
        if let password {
            // A C string, as NIOSSL passes it (cut at the first NUL).
            parsed = (password + [0]).map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { passphrase in
                PKCS12_parse(p12, passphrase.baseAddress, &key, &certificate, &authorities)
            }
        } else {
            parsed = PKCS12_parse(p12, nil, &key, &certificate, &authorities)
        }
        defer {
            if let key { EVP_PKEY_free(key) }
            if let certificate { X509_free(certificate) }
            if let authorities { CNIOBoringSSLShims_sk_X509_pop_free(authorities, X509_free) }
        }
        return parsed == 1 && (certificate == nil || key == nil)
    }
}
