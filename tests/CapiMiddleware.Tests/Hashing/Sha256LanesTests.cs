using System.Security.Cryptography;
using CapiMiddleware.Hashing;

namespace CapiMiddleware.Tests.Hashing;

/// <summary>The eight-lane SHA-256 against .NET's own, and the batched user-data hashing against the one-by-one path.</summary>
public sealed class Sha256LanesTests
{
    [SkippableFact]
    public void Every_message_length_that_fits_one_block_hashes_as_SHA256_does_in_every_lane_count()
    {
        // Where 256-bit vectors are not accelerated (Arm64, AVX2 off) the lanes are never used: the one-by-one path is
        // (The_one_by_one_path_hashes_as_the_lanes_do_and_as_the_reference_does), and this test says it was skipped.
        Skip.IfNot(Sha256Lanes.IsSupported, "Vector256 is not accelerated on this machine: the eight-lane SHA-256 is not in use here, so it is not tested; the one-by-one path is.");
        var random = new Random(256);
        for (var length = 0; length <= Sha256Lanes.MaxMessageLength; length++)
        {
            for (var count = 1; count <= Sha256Lanes.Lanes; count++)
            {
                var messages = new byte[count][];
                var lengths = new int[count];
                var blocks = new byte[count * Sha256Lanes.BlockSize];
                random.NextBytes(blocks); // stale bytes past each message must not matter
                for (var i = 0; i < count; i++)
                {
                    lengths[i] = (length + i) % (Sha256Lanes.MaxMessageLength + 1);
                    messages[i] = new byte[lengths[i]];
                    random.NextBytes(messages[i]);
                    messages[i].CopyTo(blocks, i * Sha256Lanes.BlockSize);
                }

                var digests = new byte[count * Sha256Lanes.DigestSize];
                Sha256Lanes.Hash(blocks, lengths, digests);

                for (var i = 0; i < count; i++)
                {
                    Assert.Equal(Convert.ToHexString(SHA256.HashData(messages[i])), Convert.ToHexString(digests.AsSpan(i * 32, 32)));
                }
            }
        }
    }

    [Fact]
    public void Batched_user_data_hashes_are_the_one_by_one_hashes_in_order_without_repeats()
    {
        var random = new Random(11);
        string[] samples =
        [
            " Jane.Doe@Example.com ", "jane.doe@example.com", "not an email", "+1 (650) 555-0123", "0033 6 12 34 56 78",
            "José", "Ana-Lucía", "O'Neil", "Zürich", "San Francisco", " wa ", "California", "94025-1234", "US", "Deutschland",
            "female", "M", "1990-02-28", "02/28/1990", "cus-123", "", "   ", new string('x', 60), new string('é', 40),
            "FB98D44AD7501A959F3F4F4A3F004FE2D9E581EA6207E218C4B02C08A4D75ADF",
            "fb98d44ad7501a959f3f4f4a3f004fe2d9e581ea6207e218c4b02c08a4d75adf.AQ", "中文名字", "\ud83d\ude00 emoji", "\ud800 lone",
        ];
        for (var n = 0; n < 2_000; n++)
        {
            var user = new UserData();
            var expected = new List<string>?[11];
            for (var field = 0; field < 11; field++)
            {
                var values = Enumerable.Range(0, random.Next(0, 4)).Select(_ => samples[random.Next(samples.Length)]).ToList();
                if (values.Count == 0)
                {
                    continue;
                }

                Set(user, (UserDataField)field, values);
                foreach (var value in values)
                {
                    if (UserDataHasher.NormalizeAndHash((UserDataField)field, value) is { } hash && !(expected[field] ??= []).Contains(hash))
                    {
                        expected[field]!.Add(hash);
                    }
                }
            }

            var batched = UserDataHasher.NormalizeAndHashAll(user);
            for (var field = 0; field < 11; field++)
            {
                Assert.Equal(expected[field] is { Count: > 0 } e ? e : null, batched[field]?.ToList());
            }
        }
    }

    private static void Set(UserData user, UserDataField field, List<string> values)
    {
        Action<string> add = field switch
        {
            UserDataField.Email => v => { if (user.Email is null) { user.Email = v; } else { user.AddEmail(v); } },
            UserDataField.Phone => v => { if (user.Phone is null) { user.Phone = v; } else { user.AddPhone(v); } },
            UserDataField.FirstName => v => { if (user.FirstName is null) { user.FirstName = v; } else { user.AddFirstName(v); } },
            UserDataField.LastName => v => { if (user.LastName is null) { user.LastName = v; } else { user.AddLastName(v); } },
            UserDataField.Gender => v => { if (user.Gender is null) { user.Gender = v; } else { user.AddGender(v); } },
            UserDataField.DateOfBirth => v => { if (user.DateOfBirth is null) { user.DateOfBirth = v; } else { user.AddDateOfBirth(v); } },
            UserDataField.City => v => { if (user.City is null) { user.City = v; } else { user.AddCity(v); } },
            UserDataField.State => v => { if (user.State is null) { user.State = v; } else { user.AddState(v); } },
            UserDataField.Zip => v => { if (user.Zip is null) { user.Zip = v; } else { user.AddZip(v); } },
            UserDataField.Country => v => { if (user.Country is null) { user.Country = v; } else { user.AddCountry(v); } },
            _ => v => { if (user.ExternalId is null) { user.ExternalId = v; } else { user.AddExternalId(v); } },
        };
        values.ForEach(add);
    }

    [Fact]
    public void The_one_by_one_path_hashes_as_the_lanes_do_and_as_the_reference_does()
    {
        var random = new Random(7);
        string[] samples = ["Jane.Doe@Example.com", "+1 (650) 555-0123", "José", "Zürich", "94025-1234", "female", "1990-02-28", "cus-1", new string('é', 40)];
        for (var n = 0; n < 300; n++)
        {
            var user = new UserData();
            for (var field = 0; field < 11; field++)
            {
                foreach (var value in Enumerable.Range(0, random.Next(0, 3)).Select(_ => samples[random.Next(samples.Length)]))
                {
                    user.AddValue((UserDataField)field, value);
                }
            }

            var available = UserDataHasher.NormalizeAndHashAll(user);
            Sha256Lanes.t_forceOneByOne = true;
            try
            {
                Assert.False(Sha256Lanes.IsSupported);
                var oneByOne = UserDataHasher.NormalizeAndHashAll(user);
                for (var field = 0; field < 11; field++)
                {
                    Assert.Equal(available[field], oneByOne[field]);
                    var expected = (user.Get((UserDataField)field) is { } first ? new[] { first } : [])
                        .Concat(user.More((UserDataField)field) ?? [])
                        .Select(v => UserDataHasher.NormalizeAndHash((UserDataField)field, v))
                        .OfType<string>().Distinct().ToArray();
                    Assert.Equal(expected.Length == 0 ? null : expected, oneByOne[field]);
                }
            }
            finally
            {
                Sha256Lanes.t_forceOneByOne = false;
            }
        }
    }

    [Fact]
    public void No_normalized_personal_data_stays_in_the_thread_s_buffer_after_an_event()
    {
        var user = new UserData { Email = "Jane.Doe@Example.com", Phone = "+1 650 555 0123", FirstName = "José", City = "Zürich" };

        UserDataHasher.NormalizeAndHashAll(user);

        Assert.False(UserDataHasher.ThreadBufferHoldsData);
    }
}
