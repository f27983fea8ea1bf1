// Decodes fuzzed text frames with the V1 or V2 serializer. A frame that decodes must survive an
// encode and a second decode unchanged, because the server echoes refs and topics it decoded.
// The first byte selects the serializer, so one corpus covers both.

#include "fuzzsupport.h"
#include "phoenixcodec.h"

using Omw::Phoenix::Serializer;

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    OmwFuzz::initialize(argc, argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    const Serializer serializer = (data[0] & 1) ? Serializer::V2 : Serializer::V1;
    const QByteArray text(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    const Omw::Phoenix::DecodeResult decoded = Omw::Phoenix::decode(text, serializer);
    if (decoded.isValid() && decoded.errorString.size() != 0) {
        OmwFuzz::fail("a valid decode carries an error string");
    }
    if (!decoded.isValid()) {
        return 0;
    }
    const QByteArray encoded
        = Omw::Phoenix::encode(decoded.message, serializer, Omw::Phoenix::JoinRefKey::Include);
    const Omw::Phoenix::DecodeResult again = Omw::Phoenix::decode(encoded, serializer);
    if (!again.isValid()) {
        OmwFuzz::fail("the encoding of a decoded message does not decode");
    }
    if (again.message != decoded.message) {
        OmwFuzz::fail("a decoded message changes through encode and decode");
    }
    return 0;
}
