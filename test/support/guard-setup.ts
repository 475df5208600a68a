// Jest setup: nothing a test file starts may outlive the run. Servers meant to outlive their
// starter (the local stack's) are guarded too, and a jest worker is tied to jest, so that SIGKILLing
// jest — whose workers would otherwise finish their files unattended — stops them and their servers.
import { guardEverything, tieTo } from '../../devkit/stack/guardian.js';
import { commandLine } from '../../devkit/stack/procfs.js';

guardEverything();
// In band, the tests run in jest itself, and its own guardian covers it.
if ((commandLine(process.pid) ?? '').includes('jest-worker')) tieTo(process.ppid);
