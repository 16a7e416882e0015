import SigilCore
import SigilModel
import SigilSigning
import Testing

@Suite("Merge fields: grammar, functions, positioned errors")
struct MergeTemplateTests {
    func render(_ source: String, _ values: [MergeReference: String] = [:]) throws -> String {
        let rendered = try MergeTemplate(parsing: source).render { reference in
            guard let value = values[reference] else { throw MergeFieldError(position: 0, "unset \(reference)") }
            return SecretBytes(utf8: value)
        }
        return rendered.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test("text, references and concatenation")
    func basics() throws {
        #expect(try render("plain { text } without fields") == "plain { text } without fields")
        #expect(
            try render(
                "Bearer {!$Credential.Billing.apiKey}", [.field(externalCredential: "Billing", name: "apiKey"): "k1"])
                == "Bearer k1")
        #expect(
            try render("{! $Credential.UserName & ':' & $Credential.Password }", [.userName: "u", .password: "p"])
                == "u:p")
        #expect(try render("{!'a'&'b'}{!'c'}") == "abc")
        #expect(try MergeTemplate(parsing: "{!$Credential.OAuthToken}").references == [.oauthToken])
        #expect(try MergeTemplate(parsing: "no fields").hasMergeFields == false)
    }

    @Test("functions against known answers (RFC 4648, RFC 3986, FIPS 180, RFC 4231)")
    func functions() throws {
        #expect(try render("{!BASE64ENCODE('foobar')}") == "Zm9vYmFy")
        #expect(try render("{!BASE64ENCODE('Aladdin:open sesame')}") == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        #expect(try render("{!URLENCODE('a b/c?d=é~')}") == "a%20b%2Fc%3Fd%3D%C3%A9~")
        #expect(try render("{!HEX('abc')}") == "616263")
        #expect(
            try render("{!HEX(HASH('SHA256', 'abc'))}")
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            try render("{!HEX(HMAC('SHA256', 'what do ya want for nothing?', 'Jefe'))}")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(try render("{!HEX(HASH('SHA1', 'abc'))}") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(try render("{!BASE64ENCODE(HMAC('SHA512', 'm', $Credential.Password))}", [.password: "k"]).count == 88)
    }

    @Test(
        "errors give the position and the problem",
        arguments: [
            ("{!}", 1, "empty merge field"),
            ("abc {!$Credential.Password", 5, "not closed"),
            ("{!'open}", 3, "string is not closed"),
            ("{!EVAL('1+1')}", 3, "unknown name EVAL"),
            ("{!$User.Email}", 3, "only $Credential references"),
            ("{!$Credential.Secret}", 3, "unknown reference $Credential.Secret"),
            ("{!$Credential.A.b.c}", 3, "malformed reference"),
            ("{!HEX('a', 'b')}", 3, "HEX takes 1 argument, not 2"),
            ("{!HMAC('MD5', 'a', 'b')}", 3, "first argument is the algorithm"),
            ("{!HASH($Credential.Password, 'a')}", 3, "first argument is the algorithm"),
            ("{!HEX('a'}", 10, "expected , or )"),
            ("{!'a' 'b'}", 7, "expected } or &"),
            ("x{!HEX 'a'}", 8, "expected ( after HEX"),
            ("{!&}", 3, "expected a value"),
        ])
    func errors(source: String, position: Int, problem: String) {
        let error = #expect(throws: MergeFieldError.self) { try MergeTemplate(parsing: source) }
        #expect(error?.position == position, "\(source): \(error?.description ?? "")")
        #expect(error?.problem.contains(problem) == true, "\(source): \(error?.description ?? "")")
    }

    @Test("nesting is bounded when parsing: 10,000 nested calls are an error, not a crash")
    func nestingBounded() {
        for depth in [17, 10_000] {
            let source =
                "{!" + String(repeating: "BASE64ENCODE(", count: depth) + "'a'" + String(repeating: ")", count: depth)
                + "}"
            let error = #expect(throws: MergeFieldError.self) { try MergeTemplate(parsing: source) }
            #expect(error?.problem.contains("nested more than 16 deep") == true, "\(error?.description ?? "")")
        }
        #expect(throws: Never.self) {
            try MergeTemplate(
                parsing: "{!" + String(repeating: "HEX(", count: 16) + "'a'" + String(repeating: ")", count: 16) + "}")
        }
    }

    @Test("values are bounded when rendering: HEX doubling per level stops at 1 MiB, with the position")
    func sizeBounded() throws {
        // 16 levels of HEX over a 64-byte value would be 4 MiB.
        let source =
            "x{!" + String(repeating: "HEX(", count: 16) + "$Credential.Password" + String(repeating: ")", count: 16)
            + "}"
        let error = #expect(throws: MergeFieldError.self) {
            try render(source, [.password: String(repeating: "p", count: 64)])
        }
        #expect(error?.problem.contains("larger than 1 MiB") == true, "\(error?.description ?? "")")
        // Many fields of 1 MiB each: the evaluation as a whole is bounded too.
        let many = "{!" + Array(repeating: "$Credential.Password", count: 12).joined(separator: " & ") + "}"
        let total = #expect(throws: MergeFieldError.self) {
            try render(many, [.password: String(repeating: "p", count: 1 << 20)])
        }
        #expect(total != nil)
        let spread = (0..<12).map { _ in "{!$Credential.Password}" }.joined()
        let sum = #expect(throws: MergeFieldError.self) {
            try render(spread, [.password: String(repeating: "p", count: 1 << 20)])
        }
        #expect(sum?.problem.contains("more than 8 MiB") == true, "\(sum?.description ?? "")")
        #expect(try render("{!HEX(HEX($Credential.Password))}", [.password: "ab"]) == "36313632")
    }
}
