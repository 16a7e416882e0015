import SigilCore
import Testing

@Suite("SecretBytes")
struct SecretBytesTests {
    let secret = SecretBytes(utf8: "hunter2-very-secret")

    @Test("every textual form is redacted")
    func redacted() {
        var dumped = ""
        dump(secret, to: &dumped)
        let forms = [
            secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped, "\([secret])",
        ]
        for form in forms {
            #expect(!form.contains("hunter2"), "leaked in: \(form)")
            #expect(form.contains("redacted"))
        }
    }

    @Test("equality compares content, length first")
    func equality() {
        #expect(secret == SecretBytes(utf8: "hunter2-very-secret"))
        #expect(secret != SecretBytes(utf8: "hunter2-very-secreT"))
        #expect(secret != SecretBytes(utf8: "hunter2"))
        #expect(SecretBytes(copying: []) == SecretBytes(copying: []))
    }

    @Test("one trailing line ending is removed, no more")
    func trailingNewline() {
        #expect(SecretBytes(utf8: "abc\n").removingOneTrailingNewline() == SecretBytes(utf8: "abc"))
        #expect(SecretBytes(utf8: "abc\r\n").removingOneTrailingNewline() == SecretBytes(utf8: "abc"))
        #expect(SecretBytes(utf8: "abc\n\n").removingOneTrailingNewline() == SecretBytes(utf8: "abc\n"))
        #expect(SecretBytes(utf8: "abc").removingOneTrailingNewline() == SecretBytes(utf8: "abc"))
        #expect(SecretBytes(utf8: "\n").removingOneTrailingNewline().isEmpty)
    }

    @Test("random values differ and have the asked length")
    func random() {
        let first = SecretBytes.random(count: 32)
        #expect(first.count == 32)
        #expect(first != SecretBytes.random(count: 32))
    }

    @Test("appending concatenates")
    func appending() {
        #expect(SecretBytes(utf8: "ab").appending(SecretBytes(utf8: "cd")) == SecretBytes(utf8: "abcd"))
    }
}

@Suite("Process hardening")
struct ProcessHardeningTests {
    @Test("core dumps can be turned off")
    func coreDumps() {
        #expect(ProcessHardening.disableCoreDumps())
    }
}
