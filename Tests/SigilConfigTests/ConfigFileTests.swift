import Foundation
import SigilConfig
import SigilCore
import SigilModel
import Testing

let examplePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../../examples/sigil.yaml"
).standardized.path

func parse(_ text: String, json: Bool = false) throws -> ConfigFile {
    try ConfigFile(text: text, fileName: json ? "test.json" : "test.yaml")
}

/// The message of the error `body` throws.
func message(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch {
        return "\(error)"
    }
}

@Suite("Configuration file: reading")
struct ConfigFileTests {
    @Test("the README's example reads into the model, secrets as references")
    func example() throws {
        let text = try String(contentsOfFile: examplePath, encoding: .utf8)
        let file = try ConfigFile(text: text, fileName: "sigil.yaml")
        let catalog = file.catalog
        #expect(catalog.externalCredentials.map(\.name) == ["AwsProd", "Billing", "Calendar"])
        #expect(catalog.externalCredential(named: "AwsProd")?.parameters == ["region": "us-east-1", "service": "s3"])
        #expect(
            catalog.externalCredential(named: "Billing")?.customHeaders == [
                CustomHeader(name: "X-Api-Key", value: "{!$Credential.Billing.apiKey}")
            ])
        #expect(catalog.namedCredential(named: "Billing")?.generateAuthorizationHeader == false)
        #expect(catalog.namedCredential(named: "Billing")?.allowMergeFieldsInHeader == true)
        #expect(
            catalog.users == [
                User(name: "alice", groups: ["finance"]), User(name: "bob", groups: ["platform"]),
                User(name: "invoicer"),
            ])
        let deploy = PrincipalRef(externalCredential: "AwsProd", principal: "deploy")
        #expect(
            file.secretReferences[SecretTarget(owner: .principal(deploy), field: "secretAccessKey")]
                == .file("./secrets/aws-secret"))
        #expect(file.secretReferences[apiKey] == .environment("BILLING_API_KEY"))
        #expect(catalog.principal(deploy)?.sequence == 1)
        #expect(file.problems(in: Catalog()) == nil)
    }

    let apiKey = SecretTarget(
        owner: .principal(PrincipalRef(externalCredential: "Billing", principal: "billing-org")), field: "apiKey")

    @Test(
        "shape errors name the file, the line, the item and the field",
        arguments: [
            (
                "externalCredentials:\n  - name: Billing\n    protocl: custom\n",
                "test.yaml:3: externalCredentials[0]: unknown key \"protocl\""
            ),
            (
                "externalCredentials:\n  - name: Billing\n    protocol: soap\n",
                "test.yaml:3: externalCredentials[0] (Billing).protocol: \"soap\" is not a protocol"
            ),
            (
                "externalCredentials:\n  - name: B\n    protocol: none\n    principals:\n      - name: p\n        sequence: first\n",
                "test.yaml:6: externalCredentials[0] (B).principals[0] (p).sequence: must be a whole number"
            ),
            (
                "namedCredentials:\n  - name: N\n    url: https://a.example\n    externalCredential: B\n    generateAuthorizationHeader: yes\n",
                "test.yaml:5: namedCredentials[0] (N).generateAuthorizationHeader: must be true or false"
            ),
            (
                "grants:\n  - principal: Billing\n    to: [group:x]\n",
                "test.yaml:2: grants[0].principal: \"Billing\" is not ExternalCredential/principal"
            ),
            (
                "grants:\n  - principal: B/p\n    to: [finance]\n",
                "grants[0].to[0]: \"finance\" is not user:NAME or group:NAME"
            ),
            ("users: alice\n", "test.yaml:1: users: must be a list, not a single value"),
            ("externalCredentials:\n  - protocol: none\n", "test.yaml:2: externalCredentials[0].name: is missing"),
            ("users:\n  - {name: a}\n  - {name: b\n", "test.yaml: not valid YAML"),
        ])
    func shapeErrors(text: String, expected: String) {
        let text = message { _ = try parse(text) }
        #expect(text.contains(expected), "\(text)")
    }

    @Test("a literal secret is refused without being echoed, anywhere in the message")
    func literalSecret() {
        let text = message {
            _ = try parse(
                "externalCredentials:\n  - name: B\n    protocol: custom\n    principals:\n      - name: p\n        secrets: { apiKey: sk_live_SUPERSECRET }\n"
            )
        }
        #expect(
            text.contains(
                "test.yaml:6: externalCredentials[0] (B).principals[0] (p).secrets.apiKey: is not a reference"))
        #expect(!text.contains("SUPERSECRET"))
        let broken = message { _ = try parse("x: [sk_live_SUPERSECRET\n") }
        #expect(!broken.contains("SUPERSECRET"), "\(broken)")
    }

    @Test("only one value may come from stdin")
    func oneStandardInput() {
        let text = message {
            _ = try parse(
                "externalCredentials:\n  - name: B\n    protocol: custom\n    principals:\n      - name: p\n        secrets: { a: stdin, b: stdin }\n"
            )
        }
        #expect(text.contains("only one value can come from stdin"))
    }

    @Test("model rules are reported at the line of the item that breaks them")
    func modelProblems() throws {
        let file = try parse(
            """
            externalCredentials:
              - name: B
                protocol: custom
                principals:
                  - { name: one, sequence: 1 }
                  - { name: two, sequence: 1 }
            namedCredentials:
              - name: N
                url: http://api.example
                externalCredential: B
            """)
        let problems = "\(file.problems(in: Catalog())!)"
        #expect(problems.contains("test.yaml:6: principal B/two, sequence: 1 is already the sequence of principal one"))
        #expect(problems.contains("test.yaml:8: named credential N, url: http://api.example uses plain http"))
    }

    @Test("references resolve from the environment, files (relative to the config) and stdin")
    func resolve() throws {
        let directory = NSTemporaryDirectory() + "sigil-config-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory + "/secrets", withIntermediateDirectories: true)
        try "from-a-file\n".write(toFile: directory + "/secrets/key", atomically: true, encoding: .utf8)
        setenv("SIGIL_TEST_SECRET", "from-the-environment", 1)
        let text = """
            externalCredentials:
              - name: B
                protocol: custom
                principals:
                  - name: p
                    secrets: { a: env:SIGIL_TEST_SECRET, b: file:secrets/key, c: stdin }
            """
        let file = try ConfigFile(text: text, fileName: "x.yaml", baseDirectory: directory)
        let request = try file.resolve { () throws(SigilError) in SecretBytes(utf8: "from-stdin\n") }
        let owner = SecretOwner.principal(PrincipalRef(externalCredential: "B", principal: "p"))
        #expect(request.secrets[SecretTarget(owner: owner, field: "a")] == SecretBytes(utf8: "from-the-environment"))
        #expect(request.secrets[SecretTarget(owner: owner, field: "b")] == SecretBytes(utf8: "from-a-file"))
        #expect(request.secrets[SecretTarget(owner: owner, field: "c")] == SecretBytes(utf8: "from-stdin"))

        unsetenv("SIGIL_TEST_SECRET")
        let missing = message { _ = try file.resolve { () throws(SigilError) in SecretBytes(utf8: "x") } }
        #expect(
            missing.contains("x.yaml:5: principal B/p, secrets.a: environment variable SIGIL_TEST_SECRET is not set"),
            "\(missing)")
    }

    @Test(
        "clientIdentity.pkcs12: a file or stdin reference with an optional password reference, alone",
        arguments: [
            (
                "{ pkcs12: file:c.p12, certificate: file:c.crt }",
                "(N).clientIdentity.certificate: cannot be given with pkcs12"
            ),
            (
                "{ pkcs12: file:c.p12, privateKey: file:c.key }",
                "(N).clientIdentity.privateKey: cannot be given with pkcs12"
            ),
            (
                "{ pkcs12: env:P12 }",
                "(N).clientIdentity.pkcs12: a PKCS#12 bundle is binary and cannot come from an environment variable"
            ),
            ("{ pkcs12: MIIKZQIBAzCC }", "(N).clientIdentity.pkcs12: is not a reference"),
            ("{ pkcs12: file:c.p12, password: hunter2-literal }", "(N).clientIdentity.password: is not a reference"),
            (
                "{ certificate: file:c.crt, password: env:P }",
                "(N).clientIdentity.password: is the password of a PKCS#12 bundle, and there is no pkcs12"
            ),
            ("{ pkcs12: stdin, password: stdin }", "reads stdin, which"),
        ])
    func pkcs12Shape(identity: String, expected: String) {
        let text = message {
            _ = try parse(
                "namedCredentials:\n  - name: N\n    url: https://a.example\n    externalCredential: B\n    clientIdentity: \(identity)\n"
            )
        }
        #expect(text.contains(expected), "\(text)")
        #expect(!text.contains("hunter2") && !text.contains("MIIKZQ"))
    }

    @Test("a PKCS#12 identity is read at apply: the bundle as bytes, the password from its reference")
    func pkcs12References() throws {
        let file = try parse(
            "namedCredentials:\n  - name: N\n    url: https://a.example\n    externalCredential: B\n    clientIdentity: { pkcs12: file:c.p12, password: env:P12_PASSWORD }\n"
        )
        #expect(file.catalog.namedCredential(named: "N")?.clientCertificate == "")
        #expect(file.secretReferences.isEmpty)
        let garbage = message { _ = try file.resolve { () throws(SigilError) in SecretBytes(utf8: "unused") } }
        #expect(garbage.contains("named credential N, clientIdentity.pkcs12: "), "\(garbage)")
    }

    @Test("JSON reads the same as YAML")
    func json() throws {
        let yaml = try String(contentsOfFile: examplePath, encoding: .utf8)
        let fromYAML = try ConfigFile(text: yaml, fileName: "sigil.yaml")
        let exported = try ConfigExport.text(of: fromYAML.catalog, json: true)
        #expect(try parse(exported, json: true).catalog == fromYAML.catalog)
        #expect(message { _ = try parse("{\"users\": [", json: true) }.contains("not valid JSON"))
    }

    @Test(
        "a JSON key given twice is refused, naming the line: jq, Python and JavaScript read the last, Foundation the first"
    )
    func duplicateJSONKeys() {
        let text = """
            {"namedCredentials": [{"name": "Billing",
              "url": "https://evil.example/v1", "externalCredential": "B",
              "url": "https://api.example/v1"}]}
            """
        let error = message { _ = try parse(text, json: true) }
        #expect(
            error.contains("test.json:3: not valid JSON: key \"url\" appears twice in the object at line 1"), "\(error)"
        )
        // A key that is not a name is not quoted (it may be a pasted secret).
        let pasted = message { _ = try parse(#"{"s3cr3t/value+x": 1, "s3cr3t/value+x": 2}"#, json: true) }
        #expect(pasted.contains("a key appears twice") && !pasted.contains("s3cr3t"), "\(pasted)")
    }

    @Test(
        "strict JSON: escapes, numbers and line numbers; malformed input names its line",
        arguments: [
            (#"{"users": [{"name": "a\u00e9\ud83d\ude00\n"}]}"#, nil),
            (#"{"users": [1.5e3]}"#, "test.json:1: users[0]: must be a mapping"),
            ("{\n\n\"users\": [,]}", "test.json:3: not valid JSON: expected a value"),
            (#"{"users": "a\u12"}"#, "four hex digits"),
            (#"{"users": "\ud800"}"#, "surrogate pair"),
            ("{\"users\": \"a\tb\"}", "control character"),
            (#"{"users": 01}"#, "expected ',' or '}'"),
            (#"{"users": []} x"#, "after the document"),
            (#"{"users": tru}"#, "expected a value"),
        ] as [(String, String?)])
    func strictJSON(text: String, expected: String?) {
        let error = message { _ = try parse(text, json: true) }
        if let expected {
            #expect(error.contains(expected), "\(text): \(error)")
        } else {
            #expect(error == "no error" || !error.contains("not valid JSON"), "\(text): \(error)")
        }
    }

    @Test("nesting is bounded in JSON and YAML: no input exhausts the parser's stack")
    func nestingBounded() {
        for depth in [65, 100_000] {
            let json = message {
                _ = try parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth), json: true)
            }
            #expect(json.contains("nested more than 64 levels deep"), "\(json.prefix(200))")
            let flow = message {
                _ = try parse("users: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            }
            #expect(flow.contains("nested more than 64 levels deep"), "\(flow.prefix(200))")
        }
        let block = (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(
            message { _ = try parse(block) }.contains("test.yaml:65: not valid YAML: nested more than 64 levels deep"))
        #expect(
            message { _ = try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) }
                .contains("must be a mapping"))
        #expect(
            message { _ = try parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60), json: true) }
                .contains("must be a mapping"))
    }

    @Test(
        "brackets inside a string are text: a value full of them reads, in YAML and JSON, and its YAML export reads back"
    )
    func bracketsInStrings() throws {
        let role =
            "arn:aws:iam::123456789012:role/d" + String(repeating: "{", count: 100) + String(repeating: "[", count: 100)
        let yaml = """
            externalCredentials:
              - name: Aws
                protocol: aws-sigv4
                parameters: { region: eu-west-1, service: sts, roleArn: "\(role)", durationSeconds: "900" }
                principals: [{ name: deploy }]
              - name: Plain
                protocol: aws-sigv4
                parameters:
                  region: eu-west-1
                  service: sts
                  roleArn: \(role) # and a comment [[[[
                principals: [{ name: deploy }]
            """
        let config = try parse(yaml)
        #expect(config.catalog.externalCredentials.map { $0.parameters["roleArn"] } == [role, role])
        let json = try parse(
            #"{"externalCredentials": [{"name": "Aws", "protocol": "aws-sigv4", "parameters": {"region": "eu-west-1", "service": "sts", "roleArn": "\#(role)"}, "principals": [{"name": "deploy"}]}]}"#,
            json: true)
        let export = try ConfigExport.text(of: json.catalog, json: false)
        #expect(try parse(export).catalog.externalCredentials.first?.parameters["roleArn"] == role)
    }

    @Test("an unknown key is quoted only when it looks like a name")
    func unknownKeyNotQuoted() {
        #expect(message { _ = try parse("users: []\nusres: []\n") }.contains("unknown key \"usres\""))
        let pasted = message { _ = try parse("users: []\n\"hunter2!pa$$\": []\n") }
        #expect(
            pasted.contains("unknown key (not shown: it is not a name)") && !pasted.contains("hunter2"), "\(pasted)")
    }
}

@Suite("Configuration file: export")
struct ConfigExportTests {
    static let awkward = Catalog(
        externalCredentials: [
            ExternalCredential(
                name: "Odd", authProtocol: .jwt,
                parameters: [
                    "yes": "no", "version": "1.0", "empty": "", "nothing": "null", "flag": "true",
                    "quote": "it's \"quoted\"",
                    "unicode": "caf\u{e9} \u{1F512}", "merge": "{!$Credential.Odd.key}", "colon": "a: b",
                    "hash": "# not a comment",
                ],
                customHeaders: [CustomHeader(name: "X-Odd", value: " leading and trailing ")],
                principals: [Principal(name: "p", type: .perUser, sequence: 7, parameters: ["n": "007"])]
            )
        ],
        namedCredentials: [
            NamedCredential(
                name: "Odd", url: "https://odd.example/v1", externalCredential: "Odd", allowMergeFieldsInBody: true,
                clientCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n"
            )
        ],
        users: [User(name: "alice+ops@example.com", groups: ["ops"])],
        groups: ["lonely"],
        grants: [
            Grant(
                principal: PrincipalRef(externalCredential: "Odd", principal: "p"),
                subjects: [.group("ops"), .group("lonely")])
        ]
    )

    @Test("export then read gives back the same catalog", arguments: [false, true])
    func roundTrip(json: Bool) throws {
        let text = try ConfigExport.text(of: Self.awkward, json: json)
        #expect(try parse(text, json: json).catalog == Self.awkward, "\(text)")
        // Deterministic.
        #expect(try ConfigExport.text(of: Self.awkward, json: json) == text)
    }
}
