/**
 * The AWS partition of a region, for ARNs that must be written before any provider call can say
 * it (an image URL's registry region, offline plans): `aws-us-gov` for GovCloud, `aws-cn` for the
 * China regions, `aws` elsewhere. Where the stack's own partition is needed at run time, the
 * program asks the provider (`aws.getPartitionOutput()`) instead.
 */
export function partitionOfRegion(region: string): string {
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("cn-")) return "aws-cn";
  return "aws";
}
