// cdktf's Testing matchers (toHaveResourceWithProperties, …) on the global expect.
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';

Testing.setupJest();
