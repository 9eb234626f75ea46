import { createRecoveryTokenStore } from '../../src/recovery/recoveryTokenStore';
import { registerUser } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

describe('the recovery token store', () => {
  it('issues concurrent first tokens of one user without an error, and only the newest redeems', async () => {
    const { models } = api.database;
    const tokens = createRecoveryTokenStore(models);
    for (let round = 0; round < 5; round += 1) {
      const user = await models.User.findById((await registerUser(api)).user.id);
      // The first issue of a user creates its newest-token marker; concurrent ones race for it.
      const issued = await Promise.all(
        Array.from({ length: 6 }, () => tokens.issue('password-reset', user!, 60)),
      );
      const redeemable = await Promise.all(
        issued.map((token) => tokens.find('password-reset', token)),
      );
      expect(redeemable.filter((record) => record !== null)).toHaveLength(1);
    }
  });
});
