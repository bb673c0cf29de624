import { AlertTopics } from "../../../components/monitoring/alertTopics";
import { ofType, one, recordResources, settle } from "../../helpers/mocks";

describe("AlertTopics", () => {
  test("declares an encrypted topic per severity, mails both and pages only on critical", async () => {
    const resources = await recordResources();
    new AlertTopics("prod", {
      kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/alerts",
      emails: ["ops@example.com"],
      httpsEndpoints: ["https://pager.example.com/hook"],
    });
    await settle();
    for (const severity of ["warning", "critical"]) {
      expect(one(resources, "aws:sns/topic:Topic", `prod-${severity}`).inputs).toMatchObject({
        kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/alerts",
      });
      expect(one(resources, "aws:sns/topicSubscription:TopicSubscription", `prod-${severity}-email-0`).inputs).toEqual({
        topic: `arn:aws:sns:eu-west-1:123456789012:prod-${severity}`,
        protocol: "email",
        endpoint: "ops@example.com",
      });
    }
    const https = ofType(resources, "aws:sns/topicSubscription:TopicSubscription").filter(
      (s) => s.inputs.protocol === "https",
    );
    expect(https.map((s) => s.inputs)).toEqual([
      {
        topic: "arn:aws:sns:eu-west-1:123456789012:prod-critical",
        protocol: "https",
        endpoint: "https://pager.example.com/hook",
        endpointAutoConfirms: true,
      },
    ]);
  });
});
