import { addressRange, formatCidr, isCidr, parseCidr, planSubnets, subnet, worldFamilies } from "../../lib/cidr";

describe("isCidr", () => {
  test.each([
    ["10.0.0.0/16", true],
    ["172.16.0.0/20", true],
    ["10.0.1.0/16", false], // host bits set
    ["10.0.0.256/24", false],
    ["10.0.0.0/33", false],
    ["10.0.0/16", false],
    ["", false],
  ])("%s -> %s", (value, expected) => {
    expect(isCidr(value)).toBe(expected);
  });
});

describe("subnet", () => {
  test.each([
    ["10.0.0.0/16", 3, 0, "10.0.0.0/19"],
    ["10.0.0.0/16", 3, 5, "10.0.160.0/19"],
    ["10.0.0.0/16", 6, 48, "10.0.192.0/22"],
    ["10.0.0.0/16", 6, 63, "10.0.252.0/22"],
    ["10.20.0.0/20", 6, 56, "10.20.14.0/26"],
  ])("%s newbits %d netnum %d -> %s", (base, newbits, netnum, expected) => {
    expect(subnet(base, newbits, netnum)).toBe(expected);
  });

  test("rejects a netnum past the block", () => {
    expect(() => subnet("10.0.0.0/16", 3, 8)).toThrow("10.0.0.0/16 holds 8 /19 subnets; #8 is out of range");
  });

  test("rejects a prefix longer than /32", () => {
    expect(() => subnet("10.0.0.0/30", 3, 0)).toThrow("10.0.0.0/30 has no room for /33 subnets");
  });

  test("round-trips through parse and format", () => {
    expect(formatCidr(parseCidr("192.168.16.0/20"))).toBe("192.168.16.0/20");
  });
});

describe("planSubnets", () => {
  test("gives each zone a /19 private and /22 public and isolated subnet in a /16", () => {
    expect(planSubnets("10.10.0.0/16", 3)).toEqual([
      { private: "10.10.0.0/19", public: "10.10.192.0/22", isolated: "10.10.224.0/22" },
      { private: "10.10.32.0/19", public: "10.10.196.0/22", isolated: "10.10.228.0/22" },
      { private: "10.10.64.0/19", public: "10.10.200.0/22", isolated: "10.10.232.0/22" },
    ]);
  });

  test("adding a zone keeps the existing subnets where they are", () => {
    const two = planSubnets("10.0.0.0/16", 2);
    expect(planSubnets("10.0.0.0/16", 3).slice(0, 2)).toEqual(two);
  });

  test("no two subnets of a six-zone plan overlap", () => {
    const blocks = planSubnets("10.0.0.0/16", 6)
      .flatMap((z) => [z.private, z.public, z.isolated])
      .map(parseCidr);
    const ranges = blocks
      .map((b) => [b.address, b.address + 2 ** (32 - b.prefix)] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
    expect(ranges).toHaveLength(18);
  });

  test.each([0, 7])("rejects %d zones", (zones) => {
    expect(() => planSubnets("10.0.0.0/16", zones)).toThrow(`the subnet plan holds 1 to 6 zones, not ${zones}`);
  });
});

describe("worldFamilies", () => {
  test.each<[string[], Array<4 | 6>]>([
    [["0.0.0.0/0"], [4]],
    [["::/0"], [6]],
    [["0:0:0:0:0:0:0:0/0"], [6]],
    [["::0/0"], [6]],
    [["10.1.2.3/0"], [4]], // host bits set: the prefix decides
    [["0.0.0.0/1", "128.0.0.0/1"], [4]],
    [["128.0.0.0/2", "0.0.0.0/1", "192.0.0.0/2"], [4]],
    [["::/1", "8000::/1"], [6]],
    [
      ["0.0.0.0/0", "::/0"],
      [4, 6],
    ],
    [["0.0.0.0/1"], []],
    [["0.0.0.0/1", "128.0.0.0/2"], []],
    [["10.0.0.0/8", "172.16.0.0/12"], []],
    [["::ffff:0.0.0.0/96"], []],
    [["not a cidr", "0.0.0.0/33"], []],
  ])("%j -> %j", (cidrs, expected) => {
    expect(worldFamilies(cidrs)).toEqual(expected);
  });

  test("addressRange reads IPv6 with a dotted tail and rejects malformed text", () => {
    expect(addressRange("::ffff:10.0.0.1/128")).toEqual({ family: 6, first: 0xffff0a000001n, last: 0xffff0a000001n });
    expect(addressRange("1::2::3/64")).toBeUndefined();
    expect(addressRange("256.0.0.0/8")).toBeUndefined();
  });
});
