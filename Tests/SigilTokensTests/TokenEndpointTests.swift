import Foundation
import SigilCore
import SigilModel
import Testing

@testable import SigilSigning
@testable import SigilTokens

@Suite("Token endpoints: where credentials may be sent, form bodies, STS responses")
struct TokenEndpointTests {
    @Test("https anywhere; plain http only to a loopback address; no user information")
    func endpoints() throws {
        for good in [
            "https://sts.us-east-1.amazonaws.com", "http://127.0.0.1:8080/token", "http://localhost:9/",
            "http://[::1]:4000",
        ] {
            #expect(SchemeParameters.endpointProblem(good) == nil, "\(good)")
        }
        for (bad, problem) in [
            ("http://sts.amazonaws.com", "must use https"), ("http://127.0.0.1.evil.example/", "must use https"),
            ("ftp://127.0.0.1/", "must be an https URL"), ("https://user:pw@example.com/", "user information"),
            ("/relative", "not an absolute URL"),
        ] {
            let error = SchemeParameters.endpointProblem(bad)
            #expect(error?.contains(problem) == true, "\(bad): \(error ?? "")")
            #expect(error?.contains("pw") == false)
        }
    }

    @Test("expires_in: a positive whole number, capped at ten years so no expiry time overflows")
    func expiresIn() throws {
        func parse(_ expires: String) throws -> TokenResponse {
            try TokenResponse(
                parsing: Array(#"{"access_token":"t","token_type":"Bearer","expires_in":\#(expires)}"#.utf8),
                purpose: "test")
        }
        #expect(try parse("9223372036854775807").expiresIn == TokenResponse.maximumLifetime)
        #expect(
            try parse("9223372036854775807").credential(obtainedAt: 1_800_000_000, keepingRefreshToken: nil).expiresAt
                == 1_800_000_000 + TokenResponse.maximumLifetime)
        #expect(try parse("\"3600\"").expiresIn == 3600)
        for bad in ["0", "-5", "1e30", "\"abc\"", "92233720368547758070"] {
            #expect(throws: SigilError.self, "\(bad)") { try parse(bad) }
        }
    }

    @Test(
        "an STS answer that is not UTF-8, or has a processing instruction or a DTD, is no answer (Foundation's XMLParser stopped the process on some)"
    )
    func stsNotUTF8() {
        for body in [
            Array("<a><?".utf8) + [0xFF] + Array(" x?></a>".utf8),
            Array("<AssumeRoleResponse><Cr".utf8) + [0xE4] + Array("d/></AssumeRoleResponse>".utf8),
            Array("<a><?x?></a>".utf8), Array("<?xml version=\"1.0\" encoding=><?x?></a>\"UTF-8\"?><a/>".utf8),
            Array("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>".utf8),
        ] {
            let response = AWSQueryResponse(parsing: body)
            #expect(response.values.isEmpty && response.error == nil)
        }
        #expect(
            TokenEndpointClient.isLoopback("127.0.0.1") && TokenEndpointClient.isLoopback("[::1]")
                && !TokenEndpointClient.isLoopback("127.0.1.080"))
    }

    @Test("a token is used for at least half its life, whatever the refresh margin")
    func margin() {
        let short = IssuedCredential(kind: .oauth2, fields: [:], obtainedAt: 1000, expiresAt: 1005)
        #expect(short.isFresh(at: 1002, margin: 60))
        #expect(!short.isFresh(at: 1003, margin: 60))
        let long = IssuedCredential(kind: .oauth2, fields: [:], obtainedAt: 1000, expiresAt: 4600)
        #expect(long.isFresh(at: 4539, margin: 60) && !long.isFresh(at: 4540, margin: 60))
        let odd = IssuedCredential(kind: .oauth2, fields: [:], obtainedAt: Int64.min, expiresAt: Int64.max)
        #expect(odd.isFresh(at: 0, margin: 60))
    }

    @Test("what a provider echoes is not quoted: secrets sent, and anything shaped like a token")
    func providerText() {
        let body = Array(#"{"error":"invalid_client","error_description":"secret 's3cr3t-value' is wrong"}"#.utf8)
        let cleaned = String(decoding: ProviderText.removing(["s3cr3t-value"], from: body), as: UTF8.self)
        #expect(cleaned == #"{"error":"invalid_client","error_description":"secret '[redacted]' is wrong"}"#)
        #expect(
            ProviderText.redactingTokens(
                "client secret 'hp-client-secret-9fc53f9240bd1384' is not valid for client web")
                == "client secret '[redacted]' is not valid for client web")
        #expect(
            ProviderText.redactingTokens("The request is missing a required parameter")
                == "The request is missing a required parameter")
    }

    @Test("form bodies percent-encode everything outside the unreserved set")
    func form() {
        let body = PercentEncoding.form([("RoleArn", "arn:aws:iam::1:role/a b"), ("x", "ü+&=~._-")])
        #expect(
            String(decoding: body, as: UTF8.self)
                == "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&x=%C3%BC%2B%26%3D~._-")
    }

    @Test("an AssumeRole response yields its credentials; an error response its code and message")
    func stsResponses() throws {
        let ok = AWSQueryResponse(
            parsing: Array(
                """
                <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
                  <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
                  <Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey>
                    <SessionToken>tok</SessionToken><Expiration>2026-11-30T12:00:00Z</Expiration></Credentials>
                </AssumeRoleResult></AssumeRoleResponse>
                """.utf8))
        #expect(ok.values["AccessKeyId"] == SecretBytes(utf8: "ASIAEXAMPLE"))
        #expect(ok.values["SessionToken"] == SecretBytes(utf8: "tok"))
        #expect(ok.values["Arn"] == nil)
        let expires = try #require(ok.values["Expiration"].flatMap(AssumeRoleProvider.parseExpiration))
        #expect(expires.timeIntervalSince1970 == 1_796_040_000)
        #expect(AssumeRoleProvider.parseExpiration(SecretBytes(utf8: "2026-11-30T12:00:00.123Z")) != nil)

        let refused = AWSQueryResponse(
            parsing: Array(
                """
                <ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>
                """.utf8))
        #expect(refused.error?.code == "AccessDenied")
        #expect(refused.error?.message == "not authorized")
        #expect(AWSQueryResponse(parsing: Array("not xml".utf8)).values.isEmpty)
    }
}
