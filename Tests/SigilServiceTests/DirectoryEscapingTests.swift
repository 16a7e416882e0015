import Testing

@testable import SigilService

@Suite("The directory authenticator's escaping (RFC 4514 DNs, RFC 4515 filters)")
struct DirectoryEscapingTests {
    @Test(
        "a user name cannot change the DN it binds as",
        arguments: [
            ("alice", "alice"), ("a,ou=admins", "a\\,ou\\=admins"), ("a+cn=x", "a\\+cn\\=x"), (" a ", "\\ a\\ "),
            ("#a", "\\#a"), ("a\"b\\c<d>e;f", "a\\\"b\\\\c\\<d\\>e\\;f"), ("é@example.com", "é@example.com"),
        ])
    func dn(_ input: String, _ expected: String) {
        #expect(LDAPConnection.escapeDNValue(input) == expected)
    }

    @Test("a DN cannot change the filter it is put in")
    func filter() {
        #expect(
            LDAPConnection.escapeFilterValue("uid=a*)(|(uid=*),ou=people\\x")
                == "uid=a\\2a\\29\\28|\\28uid=\\2a\\29,ou=people\\5cx")
    }
}
