import Crypto
import Foundation
import SigilCore
import SigilModel
@_spi(Benchmarking) import SigilSigning
import Testing

/// Runs a program and returns its standard output; fails the test on a non-zero exit.
@discardableResult
func shell(_ arguments: [String], in directory: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let output = directory + "/.out-\(UInt64.random(in: 0...UInt64.max))"
    _ = FileManager.default.createFile(atPath: output, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
    process.standardError = FileHandle.standardError
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SigilError(.invalidRequest, "\(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
    }
    return try String(contentsOfFile: output, encoding: .utf8)
}

let interopDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Interop")
    .standardized.path

@Suite("JWT: signed by Sigil, verified by joserfc")
struct JWTTests {
    struct Case {
        var name: String
        var algorithm: String
        var privateKey: String
        var publicKey: String
    }

    /// Keys made by openssl, in every accepted encoding.
    static func makeKeys(_ directory: String) throws -> [Case] {
        let commands: [[String]] = [
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa8.pem"],
            ["openssl", "rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem"],
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "p256.pem"],
            ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem"],
            ["openssl", "genpkey", "-algorithm", "ed25519", "-out", "ed25519.pem"],
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa1024.pem"],
            // 2050 bits: a signature of 257 bytes (once a buffer sized by keySizeInBits / 8 trapped).
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2050", "-out", "rsa2050.pem"],
        ]
        for command in commands { try shell(command, in: directory) }
        for name in ["rsa8", "p256", "p384", "ed25519", "rsa2050"] {
            try shell(["openssl", "pkey", "-in", "\(name).pem", "-pubout", "-out", "\(name).pub"], in: directory)
        }
        try shell(
            [
                "openssl", "req", "-x509", "-key", "rsa8.pem", "-subj", "/CN=sigil-test", "-days", "2", "-out",
                "cert.pem",
            ], in: directory)
        try shell(
            [
                "openssl", "req", "-x509", "-key", "p384.pem", "-subj", "/CN=sigil-p384", "-days", "2", "-out",
                "cert-p384.pem",
            ], in: directory)
        return [
            Case(name: "RS256 PKCS#8", algorithm: "RS256", privateKey: "rsa8.pem", publicKey: "rsa8.pub"),
            Case(name: "RS384 PKCS#1", algorithm: "RS384", privateKey: "rsa1.pem", publicKey: "rsa8.pub"),
            Case(name: "RS512", algorithm: "RS512", privateKey: "rsa8.pem", publicKey: "rsa8.pub"),
            Case(name: "PS256", algorithm: "PS256", privateKey: "rsa1.pem", publicKey: "rsa8.pub"),
            Case(name: "ES256 SEC1", algorithm: "ES256", privateKey: "p256.pem", publicKey: "p256.pub"),
            Case(name: "ES384 PKCS#8", algorithm: "ES384", privateKey: "p384.pem", publicKey: "p384.pub"),
            Case(name: "EdDSA", algorithm: "EdDSA", privateKey: "ed25519.pem", publicKey: "ed25519.pub"),
            Case(name: "RS256 2050-bit", algorithm: "RS256", privateKey: "rsa2050.pem", publicKey: "rsa2050.pub"),
        ]
    }

    static func engine(algorithm: String, key: String, certificate: String? = nil, extra: [String: String] = [:])
        -> SigningEngine
    {
        var secrets = [principalSecret("Api", "p", "signingKey"): key]
        if let certificate { secrets[principalSecret("Api", "p", "certificate")] = certificate }
        return SigningEngine(source: MemorySource(catalog(algorithm: algorithm, extra: extra), secrets: secrets))
    }

    static func catalog(algorithm: String, extra: [String: String] = [:]) -> Catalog {
        var parameters = [
            "algorithm": algorithm, "iss": "sigil-client", "sub": "{!$Credential.Api.tenant}",
            "aud": "https://api.example/token, second",
            "scope": "read write", "kid": "key-1", "expiresIn": "120",
            "claims": #"{"tenant_id": "{!$Credential.Api.tenant}", "level": 3}"#,
        ]
        parameters.merge(extra) { $1 }
        return Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Api", authProtocol: .jwt, parameters: parameters,
                    principals: [Principal(name: "p", type: .named, sequence: 1, parameters: ["tenant": "acme"])])
            ],
            namedCredentials: [NamedCredential(name: "Api", url: "https://api.example", externalCredential: "Api")]
        )
    }

    static func token(_ engine: SigningEngine, at date: Date) async throws -> String {
        let signed = try await engine.decorate(OutboundRequest(url: "callout:Api/v1"), at: date)
        let value = signed.headers.first { $0.name == "Authorization" }!.value
        #expect(value.hasPrefix("Bearer "))
        return String(value.dropFirst("Bearer ".count))
    }

    @Test(
        "every algorithm, every key encoding: joserfc verifies the signature and reads the claims; one flipped bit is rejected"
    )
    func interop() async throws {
        let directory = NSTemporaryDirectory() + "sigil-jwt-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var cases = try Self.makeKeys(directory)
        // The same keys as JWKs (exported by joserfc, so the JWK encoding is independent too).
        let jwks = try shell(
            [
                "python3", "-c",
                """
                import json, sys
                from joserfc.jwk import RSAKey, ECKey, OKPKey
                out = {}
                for name, cls in [("rsa8", RSAKey), ("p256", ECKey), ("ed25519", OKPKey)]:
                    out[name] = cls.import_key(open(name + ".pem", "rb").read()).as_dict(private=True)
                print(json.dumps(out))
                """,
            ], in: directory)
        let jwkObject = try JSONSerialization.jsonObject(with: Data(jwks.utf8)) as! [String: Any]
        for (name, algorithm, pub) in [
            ("rsa8", "RS256", "rsa8.pub"), ("p256", "ES256", "p256.pub"), ("ed25519", "EdDSA", "ed25519.pub"),
        ] {
            let jwk = String(decoding: try JSONSerialization.data(withJSONObject: jwkObject[name]!), as: UTF8.self)
            try jwk.write(toFile: "\(directory)/\(name).jwk", atomically: true, encoding: .utf8)
            cases.append(
                Case(name: "\(algorithm) JWK", algorithm: algorithm, privateKey: "\(name).jwk", publicKey: pub))
        }
        let hmacKeys = ["HS256": 32, "HS384": 48, "HS512": 64].mapValues { count in
            (0..<count).map { _ in UInt8.random(in: 0...255) }
        }

        let date = Date(timeIntervalSince1970: TimeInterval(Int(Date().timeIntervalSince1970)))
        let certificate = try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8)
        var manifest: [[String: Any]] = []
        for item in cases {
            let key = try String(contentsOfFile: "\(directory)/\(item.privateKey)", encoding: .utf8)
            let token = try await Self.token(
                Self.engine(
                    algorithm: item.algorithm, key: key, certificate: item.name == "RS256 PKCS#8" ? certificate : nil),
                at: date)
            for tamper in [false, true] {
                manifest.append([
                    "name": item.name + (tamper ? " tampered" : ""), "alg": item.algorithm, "token": token,
                    "key": "\(directory)/\(item.publicKey)", "tamper": tamper,
                ])
            }
        }
        for (algorithm, bytes) in hmacKeys.sorted(by: { $0.key < $1.key }) {
            let raw = SigningEngine(
                source: RawKeySource(base: MemorySource(Self.catalog(algorithm: algorithm)), key: bytes))
            let token = try await Self.token(raw, at: date)
            for tamper in [false, true] {
                manifest.append([
                    "name": algorithm + (tamper ? " tampered" : ""), "alg": algorithm, "token": token,
                    "key": bytes.map { String(format: "%02x", $0) }.joined(), "tamper": tamper,
                ])
            }
        }
        let manifestPath = directory + "/manifest.json"
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let output = try shell(["python3", interopDirectory + "/jwt_verify.py", manifestPath], in: directory)
        let results = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [[String: Any]]
        #expect(results.count == manifest.count)
        let certificateDER = Data(
            base64Encoded: certificate.components(separatedBy: "\n").filter { !$0.hasPrefix("-----") }.joined())!
        let expectedThumbprint = Data(SHA256.hash(data: certificateDER)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
        for result in results {
            let name = result["name"] as! String
            if name.hasSuffix("tampered") {
                #expect(result["ok"] as? Bool == false, "\(name) verified with a flipped bit")
                continue
            }
            #expect(result["ok"] as? Bool == true, "\(name): \(result["error"] ?? "")")
            guard let claims = result["claims"] as? [String: Any], let header = result["header"] as? [String: Any]
            else { continue }
            #expect(claims["iss"] as? String == "sigil-client", "\(name)")
            #expect(claims["sub"] as? String == "acme", "\(name)")
            #expect(claims["aud"] as? [String] == ["https://api.example/token", "second"], "\(name)")
            #expect(claims["scope"] as? String == "read write", "\(name)")
            #expect(claims["tenant_id"] as? String == "acme" && claims["level"] as? Int == 3, "\(name)")
            #expect(
                claims["iat"] as? Int == Int(date.timeIntervalSince1970)
                    && claims["nbf"] as? Int == Int(date.timeIntervalSince1970), "\(name)")
            #expect(claims["exp"] as? Int == Int(date.timeIntervalSince1970) + 120, "\(name)")
            #expect((claims["jti"] as? String)?.count == 22, "\(name)")
            #expect(header["kid"] as? String == "key-1" && header["typ"] as? String == "JWT", "\(name)")
            if name == "RS256 PKCS#8" { #expect(header["x5t#S256"] as? String == expectedThumbprint) }
        }

        // Weak or mismatched keys are refused with the reason.
        let weakRSA = try String(contentsOfFile: directory + "/rsa1024.pem", encoding: .utf8)
        let rsaError = await #expect(throws: SigilError.self) {
            try await Self.token(Self.engine(algorithm: "RS256", key: weakRSA), at: date)
        }
        #expect(rsaError?.reason.contains("1024-bit RSA key; at least 2048 bits are required") == true)
        let shortHMAC = await #expect(throws: SigilError.self) {
            try await Self.token(Self.engine(algorithm: "HS256", key: "only-16-bytes!!!"), at: date)
        }
        #expect(shortHMAC?.reason.contains("HS256 needs at least 32") == true)
        let p256 = try String(contentsOfFile: directory + "/p256.pem", encoding: .utf8)
        let mismatch = await #expect(throws: SigilError.self) {
            try await Self.token(Self.engine(algorithm: "ES384", key: p256), at: date)
        }
        #expect(mismatch?.reason.contains("not a P-384 private key") == true)
        let noAlgorithm = await #expect(throws: SigilError.self) {
            try await Self.token(Self.engine(algorithm: "none", key: p256), at: date)
        }
        #expect(noAlgorithm?.reason.contains("is not one of") == true)
        let reserved = await #expect(throws: SigilError.self) {
            try await Self.token(
                Self.engine(algorithm: "ES256", key: p256, extra: ["claims": #"{"exp": 1}"#]), at: date)
        }
        #expect(reserved?.reason.contains("claims may not set exp") == true)

        // A certificate must hold the key's public key: its x5t#S256 names it as the verifier.
        let p384Certificate = try String(contentsOfFile: directory + "/cert-p384.pem", encoding: .utf8)
        let wrongCertificate = await #expect(throws: SigilError.self) {
            try await Self.token(Self.engine(algorithm: "ES256", key: p256, certificate: p384Certificate), at: date)
        }
        #expect(
            wrongCertificate?.reason.contains("holds another public key than the JWT signing key") == true,
            "\(wrongCertificate?.reason ?? "")")
        // The same checks when the secrets are written (apply, secret set), naming the secret.
        let target = principalSecret("Api", "p", "signingKey")
        let written = try SchemeRegistry.secretProblems(
            in: Self.catalog(algorithm: "ES256"), changed: [target: SecretBytes(utf8: p256)]
        ) { stored in
            stored.field == "certificate" ? SecretBytes(utf8: p384Certificate) : nil
        }
        #expect(
            written.count == 1 && written[0].contains("principal Api/p, secret signingKey")
                && written[0].contains("another public key"), "\(written)")
        #expect(
            try SchemeRegistry.secretProblems(
                in: Self.catalog(algorithm: "RS256"), changed: [target: SecretBytes(utf8: weakRSA)]
            ) { _ in nil }.first?
            .contains("1024-bit RSA key") == true)
        #expect(
            try SchemeRegistry.secretProblems(
                in: Self.catalog(algorithm: "ES256"), changed: [target: SecretBytes(utf8: p256)]
            ) { _ in nil }.isEmpty)
    }
}

@Suite("JWT: JWTSigner's bytes")
struct JWTSignerTests {
    static func decode(_ part: Substring) -> [UInt8] {
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Array(Data(base64Encoded: base64)!)
    }

    @Test(
        "header and claims are the exact JSON (members sorted bytewise, strings escaped), and the HMAC is over header.claims"
    )
    func exactBytes() throws {
        let key = SecretBytes(copying: Array(repeating: 7, count: 32))
        let signer = try JWTSigner(algorithm: .hs256, key: key)
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let claims = [
            (name: "sub", value: "a\"b\\c\n\u{1}é/"), (name: "aud", value: "x"), (name: "zz", value: ""),
            (name: "Aa", value: "1"), (name: "iss", value: "me"),
        ]
        let token = try signer.token(claims: claims, lifetime: 60, at: date)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(String(decoding: Self.decode(parts[0]), as: UTF8.self) == #"{"alg":"HS256","typ":"JWT"}"#)
        let json = String(decoding: Self.decode(parts[1]), as: UTF8.self)
        let jti = try #require(
            json.split(separator: "\"").firstIndex(of: "jti").map { String(json.split(separator: "\"")[$0 + 2]) })
        #expect(jti.utf8.count == 22)
        #expect(
            json == #"{"Aa":"1","aud":"x","exp":1700000060,"iat":1700000000,"iss":"me","jti":""# + jti
                + #"","nbf":1700000000,"sub":"a\"b\\c\n\u0001é/","zz":""}"#)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array((parts[0] + "." + parts[1]).utf8),
            using: SymmetricKey(data: Array(repeating: UInt8(7), count: 32)))
        #expect(Self.decode(parts[2]) == Array(mac))
        // Tokens differ by jti.
        #expect(try signer.token(claims: claims, lifetime: 60, at: date) != token)
    }

    @Test("no claims, and many claims (longer than a base64url block)")
    func claimCounts() throws {
        let signer = try JWTSigner(algorithm: .hs512, key: SecretBytes(copying: Array(repeating: 1, count: 64)))
        let date = Date(timeIntervalSince1970: 0)
        let empty = try signer.token(claims: [], lifetime: 1, at: date)
        let emptyJSON = String(decoding: Self.decode(empty.split(separator: ".")[1]), as: UTF8.self)
        #expect(emptyJSON.hasPrefix(#"{"exp":1,"iat":0,"jti":""#) && emptyJSON.hasSuffix(#"","nbf":0}"#))
        let many = (0..<40).reversed().map {
            (name: "c\($0 < 10 ? "0" : "")\($0)", value: String(repeating: "v", count: $0))
        }
        let token = try signer.token(claims: many, lifetime: 1, at: date)
        let object =
            try JSONSerialization.jsonObject(with: Data(Self.decode(token.split(separator: ".")[1]))) as! [String: Any]
        #expect(object.count == 44 && object["c39"] as? String == String(repeating: "v", count: 39))
        let names = String(decoding: Self.decode(token.split(separator: ".")[1]), as: UTF8.self).dropFirst().split(
            separator: ","
        ).map { $0.split(separator: ":")[0] }
        #expect(names == names.sorted())
    }
}

/// A source whose signing key is raw bytes (HMAC keys need not be text).
struct RawKeySource: CredentialSource {
    let base: any CredentialSource
    let key: [UInt8]

    func catalog() throws -> Catalog { try base.catalog() }
    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? {
        target.field == "signingKey" ? SecretBytes(copying: key) : try base.secret(target, stage: stage)
    }
    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> { try base.authorizedUsers(of: principal) }
}

/// Hands out one fixed OAuth 2.0 token (an access and a refresh token), for the merge-field rules.
struct FixedIssuer: CredentialIssuer {
    let credential = IssuedCredential(
        kind: .oauth2,
        fields: [
            "accessToken": SecretBytes(utf8: "access-for-the-resource"),
            "refreshToken": SecretBytes(utf8: "refresh-for-the-provider"),
        ], obtainedAt: 0, expiresAt: nil)

    func credential(for request: IssuanceRequest) async throws -> IssuedCredential { credential }
    func replace(rejected: IssuedCredential, for request: IssuanceRequest) async throws -> IssuedCredential {
        credential
    }
}

@Suite("Merge fields reach only what the resource is meant to see")
struct ResourceFacingMergeFieldTests {
    func body(_ engine: SigningEngine, _ name: String, _ template: String) async throws -> String {
        let signed = try await engine.decorate(
            OutboundRequest(method: "POST", url: "callout:\(name)/x", body: .bytes(Array(template.utf8))))
        return String(decoding: signed.body ?? [], as: UTF8.self)
    }

    @Test("OAuth 2.0: the access token yes; the refresh token and client secret never; a listed secret yes")
    func oauth() async throws {
        func engine(listing: String?) -> SigningEngine {
            var parameters = ["tokenUrl": "https://auth.example/token", "clientId": "c"]
            if let listing { parameters["mergeFieldSecrets"] = listing }
            let catalog = Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "Auth", authProtocol: .oauth2, parameters: parameters,
                        principals: [Principal(name: "p", type: .named, sequence: 1, parameters: ["tenant": "acme"])])
                ],
                namedCredentials: [
                    NamedCredential(
                        name: "Auth", url: "https://api.example", externalCredential: "Auth",
                        allowMergeFieldsInBody: true)
                ]
            )
            let secrets = [
                principalSecret("Auth", "p", "clientSecret"): "client-secret",
                principalSecret("Auth", "p", "partnerKey"): "partner",
            ]
            return SigningEngine(source: MemorySource(catalog, secrets: secrets), issuer: FixedIssuer())
        }
        let plain = engine(listing: nil)
        #expect(
            try await body(
                plain, "Auth",
                "t={!$Credential.OAuthToken}&a={!$Credential.Auth.accessToken}&n={!$Credential.Auth.tenant}")
                == "t=access-for-the-resource&a=access-for-the-resource&n=acme")
        for field in ["refreshToken", "clientSecret", "partnerKey"] {
            let error = await #expect(throws: SigilError.self) {
                try await body(plain, "Auth", "x={!$Credential.Auth.\(field)}")
            }
            #expect(error?.reason.contains("\(field) of principal Auth/p") == true, "\(field): \(error?.reason ?? "")")
            #expect(
                error?.reason.contains("refresh-for-the-provider") == false
                    && error?.reason.contains("client-secret") == false)
        }
        #expect(
            try await body(engine(listing: "partnerKey"), "Auth", "k={!$Credential.Auth.partnerKey}") == "k=partner")
        await #expect(throws: SigilError.self) {
            try await body(
                engine(listing: "partnerKey, clientSecret"), "Auth", "x={!HEX($Credential.Auth.refreshToken)}")
        }
    }
}
