import Foundation
import SigilCore
import Testing

@Suite("Encoding: the one hex, percent-encoder, base64url, JSON writer and PEM reader")
struct EncodingTests {
    @Test("hex: lowercase out, either case in, odd or non-hex input refused")
    func hex() {
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.decode("000fA5ff") == [0x00, 0x0F, 0xA5, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("") == [])
    }

    @Test("percent-encoding: RFC 3986's unreserved set kept, everything else %XX in capitals; forms; decoding")
    func percent() {
        #expect(
            String(decoding: PercentEncoding.encode(Array("a-b.c_d~e f/g+ü".utf8)), as: UTF8.self)
                == "a-b.c_d~e%20f%2Fg%2B%C3%BC")
        #expect(
            String(decoding: PercentEncoding.encode(Array("/a b/".utf8), keepingSlash: true), as: UTF8.self)
                == "/a%20b/")
        #expect(
            String(
                decoding: PercentEncoding.form([("grant_type", "client_credentials"), ("scope", "a b&c=d")]),
                as: UTF8.self)
                == "grant_type=client_credentials&scope=a%20b%26c%3Dd")
        #expect(PercentEncoding.decode("a%20b+c%2b%C3%BC") == Array("a b+c+ü".utf8))
        #expect(PercentEncoding.decode("a+b", plusIsSpace: true) == Array("a b".utf8))
        // A '%' without two hex digits after it is kept as it is.
        #expect(PercentEncoding.decode("100%") == Array("100%".utf8))
        #expect(PercentEncoding.decode("%4") == Array("%4".utf8))
        #expect(PercentEncoding.decode("%zz%41") == Array("%zzA".utf8))
    }

    @Test("base64url without padding: RFC 4648's test vectors, and back")
    func base64url() {
        let vectors = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Data(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == Data([0xFB, 0xFF, 0xBF]))
    }

    @Test("JSON strings: quote, backslash and control characters escaped, '/' and non-ASCII not")
    func json() {
        let value = "a\"b\\c\nd\u{01}/é"
        let written = [UInt8](unsafeUninitializedCapacity: JSON.stringBound(value)) { buffer, count in
            var writer = ByteWriter(buffer)
            writer.writeJSONString(value)
            count = writer.count
        }
        #expect(String(decoding: written, as: UTF8.self) == #""a\"b\\c\nd\u0001/é""#)
        let decoded = try? JSONDecoder().decode(String.self, from: Data(written))
        #expect(decoded == value)
    }

    @Test("PEM: every CERTIFICATE block's DER, other blocks and text around them ignored, garbage none")
    func pem() {
        let der: [UInt8] = [0x30, 0x03, 0x02, 0x01, 0x01]
        let block = "-----BEGIN CERTIFICATE-----\n\(Data(der).base64EncodedString())\n-----END CERTIFICATE-----\n"
        let key = "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n"
        #expect(PEM.certificates(in: "subject=...\n" + block + key + block) == [der, der])
        #expect(PEM.firstCertificate(in: key) == nil)
        #expect(PEM.certificates(in: "not PEM at all").isEmpty)
    }
}
