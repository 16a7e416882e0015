import Foundation
import SigilCore
import Testing

/// Each scheme's settings are checked when they are written: `sigil apply` names the file, line,
/// item and field and writes nothing; `sigil secret set` refuses a key of the wrong shape.
@Suite("Scheme settings: checked at apply and at secret set, with file, line, item and field")
struct SchemeSettingsTests {
    /// One credential of `protocolName` with `parameters` (YAML flow map entries) on the external
    /// credential and `principal` on its principal.
    static func config(_ protocolName: String, _ parameters: String, principal: String = "") -> String {
        """
        externalCredentials:
          - name: Api
            protocol: \(protocolName)
            parameters: { \(parameters) }
            principals:
              - name: p
                parameters: { \(principal) }
        namedCredentials:
          - { name: Api, url: "https://api.example", externalCredential: Api }

        """
    }

    static let cases: [(name: String, config: String, expected: String)] = [
        (
            "aws-sigv4 without region", config("aws-sigv4", "service: s3"),
            "c.yaml:2: external credential Api, parameters.region: is missing (e.g. us-east-1) (for principal p)"
        ),
        (
            "aws-sigv4 with a region in capitals", config("aws-sigv4", "service: s3, region: US-EAST-1"),
            "external credential Api, parameters.region: US-EAST-1 must be lowercase letters, digits and '-'"
        ),
        (
            "payloadSigning neither signed nor unsigned",
            config("aws-sigv4", "service: s3, region: us-east-1, payloadSigning: maybe"),
            "parameters.payloadSigning: maybe is not one of signed, unsigned"
        ),
        (
            "durationSeconds out of range",
            config(
                "aws-sigv4", "service: sts, region: us-east-1",
                principal: "roleArn: 'arn:aws:iam::1:role/r', durationSeconds: '100'"),
            "c.yaml:6: principal Api/p, parameters.durationSeconds: must be a whole number of seconds from 900 to 43200, not 100"
        ),
        (
            "a JWT algorithm that does not exist, on the principal",
            config("jwt", "iss: me", principal: "algorithm: HS999"),
            "c.yaml:6: principal Api/p, parameters.algorithm: HS999 is not one of HS256"
        ),
        (
            "expiresIn of zero", config("jwt", "algorithm: ES256, expiresIn: '0'"),
            "parameters.expiresIn: must be a whole number of seconds from 1 to 86400, not 0"
        ),
        (
            "claims that set exp", config("jwt", #"algorithm: ES256, claims: '{"exp": 1}'"#),
            "parameters.claims: may not set exp; Sigil fills it in"
        ),
        (
            "an OAuth 2.0 credential without tokenUrl", config("oauth2", "clientId: c"),
            "parameters.tokenUrl: is missing"
        ),
        (
            "a tokenUrl over plain http", config("oauth2", "clientId: c, tokenUrl: 'http://login.example/token'"),
            "parameters.tokenUrl: must use https (plain http is allowed only to a loopback address)"
        ),
        (
            "a grant that does not exist",
            config("oauth2", "clientId: c, tokenUrl: 'https://login.example/token', grantType: password"),
            "parameters.grantType: password is not one of client_credentials, jwt-bearer"
        ),
        (
            "a jwt-bearer grant of a named principal without a subject",
            config("oauth2", "clientId: c, tokenUrl: 'https://login.example/token', grantType: jwt-bearer"),
            "parameters.subject: is missing: the jwt-bearer grant of a named principal asserts a subject"
        ),
        (
            "a Basic user-id with a colon", config("basic", "username: 'a:b'"),
            "parameters.username: contains ':', which RFC 7617 does not allow in a user-id"
        ),
    ]

    @Test(
        "a missing or malformed parameter fails apply, naming file, line, item and field, and writes nothing",
        arguments: cases.indices)
    func parameters(_ index: Int) throws {
        let item = Self.cases[index]
        let cli = CLI()
        try cli.ok(["init"])
        let path = cli.home + "/c.yaml"
        try item.config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try cli.run(["apply", "-f", path])
        #expect(result.status != 0, "\(item.name)")
        #expect(result.stderr.contains(item.expected), "\(item.name): \(result.stderr)")
        #expect(try cli.run(["show", "Api"]).status != 0, "\(item.name): nothing is written")
    }

    /// A key made by openssl: `genpkey` arguments, the PEM text back.
    static func key(_ arguments: [String], in directory: String) throws -> String {
        let path = directory + "/key-\(UInt32.random(in: 0...UInt32.max)).pem"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "genpkey"] + arguments + ["-out", path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test("a JWT key under 2048 bits or for another algorithm fails apply and secret set; the stored key stays")
    func secrets() throws {
        let cli = CLI()
        try cli.ok(["init"])
        let weak = try Self.key(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], in: cli.home)
        let strong = try Self.key(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], in: cli.home)
        let p256 = try Self.key(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], in: cli.home)
        try weak.write(toFile: cli.home + "/weak.pem", atomically: true, encoding: .utf8)
        let path = cli.home + "/c.yaml"
        try Self.config("jwt", "algorithm: RS256, iss: me").replacingOccurrences(
            of: "parameters: {  }", with: "secrets: { signingKey: file:weak.pem }"
        )
        .write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try cli.run(["apply", "-f", path])
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("principal Api/p, secret signingKey: ")
                && refused.stderr.contains("1024-bit RSA key; at least 2048 bits are required"), "\(refused.stderr)")
        #expect(try cli.run(["show", "Api"]).status != 0, "nothing is written")

        try Self.config("jwt", "algorithm: RS256, iss: me").write(toFile: path, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", path])
        try cli.ok(["secret", "set", "Api/p", "signingKey"], stdin: strong)
        for (key, problem) in [(weak, "1024-bit RSA key"), (p256, "not an RSA private key")] {
            let result = try cli.run(["secret", "set", "Api/p", "signingKey"], stdin: key)
            #expect(result.status != 0)
            #expect(
                result.stderr.contains("principal Api/p, secret signingKey: ") && result.stderr.contains(problem),
                "\(result.stderr)")
        }
        // The 2048-bit key is still the one that signs.
        let signed = try cli.ok(["sign", "callout:Api/x"])
        #expect(signed.stdout.contains("Authorization: Bearer ey"), "\(signed.stdout)")
        let shown = try cli.ok(["show", "Api/p"]).stdout
        #expect(shown.contains("secret signingKey: set, version 1 current"), "\(shown)")
    }
}
