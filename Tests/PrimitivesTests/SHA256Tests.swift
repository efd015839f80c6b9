import Primitives
import Testing

@Suite("SHA-256, as sha256sum prints it")
struct SHA256Tests {
    private func hex(_ text: String, in pieces: Int = 1) -> String {
        var digest = SHA256Digest()
        let bytes = Array(text.utf8)
        let size = max(1, bytes.count / pieces)
        for start in stride(from: 0, to: bytes.count, by: size) { digest.update(bytes[start..<min(start + size, bytes.count)]) }
        return digest.finishHex()
    }

    @Test("the FIPS 180-4 test vectors, whole and fed in pieces")
    func vectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(hex(twoBlocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(twoBlocks, in: 7) == hex(twoBlocks))
        #expect(hex(String(repeating: "a", count: 1_000_000), in: 13) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
