import Foundation
import SigilSAML

/// `saml-response`: a SAML Response document as the service's `/saml/acs` gets it (decoded from
/// base64), verified by libxmlsec1 against a fixed certificate (the seeds are responses it signed),
/// then the covered assertion read. A verified response must name its assertion's ID.
enum SAMLResponseTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard let (assertion, _) = try? SAMLAssertion.verified(Array(input), certificate: certificate) else { return }
        if assertion.id.isEmpty { FuzzCheck.fail("a verified assertion without an ID") }
    }

    /// The certificate of the key that signed Fuzz/Corpus/saml-response/ (the key is not kept).
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIDGTCCAgGgAwIBAgIUDPhjJ5+p05Gnsf9bRfDQwCvXA2cwDQYJKoZIhvcNAQEL
        BQAwGzEZMBcGA1UEAwwQZnV6ei1pZHAuZXhhbXBsZTAgFw0yNjEyMDMyMDIxMTNa
        GA8yMTI2MTEwOTIwMjExM1owGzEZMBcGA1UEAwwQZnV6ei1pZHAuZXhhbXBsZTCC
        ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALkpPHiFsDdxv8pzGPjLSx6O
        Ahg1udv8jPKKUbL0Un88uO2Q2cWVcvLo6y+fubFYTlZu1oEy09pCpsywG90GKvyg
        1FmIWnfNCJ2Q+QGtLwBKDYbY83ru1IexjF/43ykztnYccGr3j++c/Uj1ddF/L3bf
        /oPrnqR3PMzZQV3mXfPV3nr0z1vSi8Qx9OE1vx8GSawyajYkRLDd4/iDBYh6Qf9P
        s8zUNrXOprO8X5tPrlTbUI9f782FybV5ZXX8nNL8IkVCz2nQLBrGaiqn/Txogfyt
        536xu83nU2goyTFW10bWzUkjU+YIM2Qshgaws71Mjv5oZmdbcbajr5ZfP7j6W+0C
        AwEAAaNTMFEwHQYDVR0OBBYEFDgNfSE9S5dS8KuSKDK3pEJbhqCdMB8GA1UdIwQY
        MBaAFDgNfSE9S5dS8KuSKDK3pEJbhqCdMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI
        hvcNAQELBQADggEBALR8wmf40vL3w3l2Yu1J9MGXepeubZ8BRArhjHJizPHDjqg4
        nQhl15DHjKdg904Ai6595lf/tXTtOv0WQ8tv/LbRxdko6+qQQGI1nnC45VSpgJ0q
        jyUROANsogsAbwC1YsKpKIbbyFCweiUXj0/i4u5jz2S04kglzsZqXjcOpby0Llx8
        ORnMB7Uli5yvuF22HPtwdtgr0VBvN9LkYUyCibMJgbarwCHL8t3UqDP8VkpbEOji
        NCgLFHyJPbtrmUbNbHgLcUZSMSxbJfDEMVRHfjOt9MBkXAWMSEDYqAkM6F8GbCuX
        WfL1xUJ0LiMCs3JBFGRYNzWIw1id+KRHYBXB3UY=
        -----END CERTIFICATE-----
        """
}
