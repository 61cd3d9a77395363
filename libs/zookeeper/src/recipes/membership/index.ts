export {
  decodeMemberData,
  encodeMemberData,
  type Member,
  Membership,
  type MembershipHandle,
  type MembershipOptions,
} from './membership.js';
