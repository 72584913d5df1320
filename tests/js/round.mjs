// A round of IAM and STS calls with the AWS SDK for JavaScript v3 against a live Vestibule.
// Reads VESTIBULE_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the account's root user) and NAME_PREFIX;
// prints one JSON object of what it saw; exits 1 with the error on stderr when a call fails unexpectedly.
import {
  AttachRolePolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand,
  GetRoleCommand, GetUserCommand, IAMClient, ListAttachedRolePoliciesCommand, ListUserTagsCommand, ListUsersCommand,
  PutUserPolicyCommand, TagUserCommand, paginateListUsers,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const endpoint = process.env.VESTIBULE_ENDPOINT;
const prefix = process.env.NAME_PREFIX ?? "js";
const root = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const config = (credentials) => ({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 });

const iam = new IAMClient(config(root));
const sts = new STSClient(config(root));

async function expectError(promise) {
  try {
    await promise;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error("the call succeeded; an error was expected");
}

const out = {};
const me = await sts.send(new GetCallerIdentityCommand({}));
out.account = me.Account;
out.rootArn = me.Arn;

const names = [1, 2, 3].map((i) => `${prefix}-user-${i}`);
for (const UserName of names) {
  await iam.send(new CreateUserCommand({ UserName, Path: "/js/" }));
}
const got = await iam.send(new GetUserCommand({ UserName: names[0] }));
out.user = { name: got.User.UserName, arn: got.User.Arn, path: got.User.Path, id: got.User.UserId };

let pages = 0;
const listed = [];
for await (const page of paginateListUsers({ client: iam, pageSize: 1 }, { PathPrefix: "/js/" })) {
  pages += 1;
  out.firstPageTruncated ??= page.IsTruncated;
  listed.push(...page.Users.map((u) => u.UserName));
}
out.pages = pages;
out.listed = listed;

await iam.send(new TagUserCommand({ UserName: names[0], Tags: [{ Key: "team", Value: "web" },
  { Key: "cost-center", Value: "42" }] }));
out.tags = (await iam.send(new ListUserTagsCommand({ UserName: names[0] }))).Tags;

const roleName = `${prefix}-role`;
const trust = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${me.Account}:user/js/${names[1]}` },
    Action: "sts:AssumeRole" }],
};
const role = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trust),
  Description: "made by the JS SDK" }));
out.role = { arn: role.Role.Arn, id: role.Role.RoleId };
const readBack = await iam.send(new GetRoleCommand({ RoleName: roleName }));
out.roleTrust = JSON.parse(decodeURIComponent(readBack.Role.AssumeRolePolicyDocument));
out.roleDescription = readBack.Role.Description;

const document = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:ListUsers", Resource: "*" }] };
const policy = await iam.send(new CreatePolicyCommand({ PolicyName: `${prefix}-policy`,
  PolicyDocument: JSON.stringify(document) }));
await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.Policy.Arn }));
out.policyArn = policy.Policy.Arn;
out.attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies;

// a user allowed to assume the role, whose own keys sign the AssumeRole
await iam.send(new PutUserPolicyCommand({ UserName: names[1], PolicyName: "assume", PolicyDocument: JSON.stringify({
  Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: role.Role.Arn }] }) }));
const key = (await iam.send(new CreateAccessKeyCommand({ UserName: names[1] }))).AccessKey;
const userSts = new STSClient(config({ accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }));
const assumed = await userSts.send(new AssumeRoleCommand({ RoleArn: role.Role.Arn, RoleSessionName: "js-session",
  DurationSeconds: 900 }));
out.assumedRoleUser = assumed.AssumedRoleUser;
out.expiration = assumed.Credentials.Expiration.toISOString();
const session = {
  accessKeyId: assumed.Credentials.AccessKeyId, secretAccessKey: assumed.Credentials.SecretAccessKey,
  sessionToken: assumed.Credentials.SessionToken,
};
out.sessionIdentity = await new STSClient(config(session)).send(new GetCallerIdentityCommand({}));
delete out.sessionIdentity.$metadata;
// the role's policy allows ListUsers and nothing else
const roleIam = new IAMClient(config(session));
out.roleListedUsers = (await roleIam.send(new ListUsersCommand({ PathPrefix: "/js/" }))).Users.length;
out.roleDenied = await expectError(roleIam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName })));

out.missingUser = await expectError(iam.send(new GetUserCommand({ UserName: `${prefix}-nobody` })));
out.duplicateUser = await expectError(iam.send(new CreateUserCommand({ UserName: names[0] })));
out.invalid = await expectError(iam.send(new CreateUserCommand({ UserName: "has space".repeat(10) })));

process.stdout.write(JSON.stringify(out) + "\n");
