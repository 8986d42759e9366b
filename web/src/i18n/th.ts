import type { AreaKey, MessageKey } from "./en";
import { th as inboxTh } from "../features/inbox/messages";
import { th as customersTh } from "../features/customers/messages";
import { th as catalogTh } from "../features/catalog/messages";
import { th as dashboardsTh } from "../features/dashboards/messages";
import { th as syncsTh } from "../features/syncs/messages";
import { th as knowledgeTh } from "../features/knowledge/messages";
import { th as staffTh } from "../features/staff/messages";
import { th as auditTh } from "../features/audit/messages";


/** The app's own keys (each area's are in features/<name>/messages.ts). */
const core: Record<Exclude<MessageKey, AreaKey>, string> = {
  "app.name": "ระบบ CRM โรงเรียนสอนทำอาหาร",
  "app.loading": "กำลังโหลด…",
  "app.skipToContent": "ข้ามไปยังเนื้อหา",

  "nav.menu": "เมนู",
  "nav.closeMenu": "ปิดเมนู",
  "nav.main": "เมนูหลัก",
  "nav.inbox": "กล่องข้อความ",
  "nav.customers": "ลูกค้า",
  "nav.catalog": "คอร์สและคำสั่งซื้อ",
  "nav.dashboards": "แดชบอร์ด",
  "nav.syncs": "ซิงก์ข้อมูลการตลาด",
  "nav.knowledge": "คลังความรู้",
  "nav.staff": "พนักงาน",
  "nav.audit": "บันทึกการใช้งาน",

  "header.signedInAs": "เข้าสู่ระบบในชื่อ {email}",
  "header.signOut": "ออกจากระบบ",
  "header.language": "ภาษา",

  "role.admin": "ผู้ดูแลระบบ",
  "role.manager": "ผู้จัดการ",
  "role.marketer": "การตลาด",
  "role.agent": "เจ้าหน้าที่ตอบแชต",
  "role.viewer": "ผู้ดูข้อมูล",

  "live.connected": "ออนไลน์",
  "live.connecting": "กำลังเชื่อมต่อ…",
  "live.reconnecting": "กำลังเชื่อมต่อใหม่…",
  "live.offline": "ออฟไลน์",
  "live.connectedHint": "ข้อมูลอัปเดตทันทีที่มีการเปลี่ยนแปลง",
  "live.reconnectingHint": "การเชื่อมต่อสดขาดหาย กำลังลองใหม่ ข้อมูลที่เห็นอาจยังไม่เป็นปัจจุบัน",
  "live.handoverRequested": "ลูกค้าต้องการคุยกับเจ้าหน้าที่ (ขอส่งต่อให้คน)",

  "signIn.title": "เข้าสู่ระบบ",
  "signIn.subtitle": "สำหรับพนักงานของโรงเรียนสอนทำอาหารเท่านั้น",
  "signIn.email": "อีเมล",
  "signIn.password": "รหัสผ่าน",
  "signIn.submit": "เข้าสู่ระบบ",
  "signIn.submitting": "กำลังเข้าสู่ระบบ…",
  "signIn.wrongCredentials": "อีเมลหรือรหัสผ่านไม่ถูกต้อง",
  "signIn.tooManyAttempts": "ลองเข้าสู่ระบบหลายครั้งเกินไป กรุณารอสักครู่แล้วลองใหม่",
  "signIn.sessionEnded": "เซสชันหมดอายุแล้ว กรุณาเข้าสู่ระบบอีกครั้ง",

  "common.retry": "ลองอีกครั้ง",
  "common.close": "ปิด",
  "common.dismiss": "ปิดข้อความ",
  "common.comingSoon": "หน้านี้กำลังอยู่ระหว่างการพัฒนา",
  "common.notAllowedTitle": "ตำแหน่งของคุณไม่สามารถใช้หน้านี้ได้",
  "common.notAllowedBody": "หากต้องการสิทธิ์เข้าถึง กรุณาติดต่อผู้จัดการ",
  "common.notFoundTitle": "ไม่พบหน้านี้",
  "common.notFoundBody": "กรุณาเลือกหน้าอื่นจากเมนู",

  "error.title": "เกิดข้อผิดพลาด",
  "error.network": "ไม่สามารถเชื่อมต่อเซิร์ฟเวอร์ได้ กรุณาตรวจสอบอินเทอร์เน็ตแล้วลองอีกครั้ง",
  "error.unauthorized": "เซสชันหมดอายุแล้ว กรุณาเข้าสู่ระบบอีกครั้ง",
  "error.forbidden": "ตำแหน่งของคุณไม่มีสิทธิ์ทำรายการนี้",
  "error.notFound": "ไม่พบรายการนี้ อาจถูกลบไปแล้ว",
  "error.conflict": "มีผู้อื่นแก้ไขรายการนี้พร้อมกัน กรุณาโหลดใหม่แล้วลองอีกครั้ง",
  "error.validation": "มีข้อมูลบางช่องที่ต้องแก้ไข",
  "error.rateLimited": "มีคำขอมากเกินไป กรุณารอสักครู่แล้วลองใหม่",
  "error.unavailable": "เซิร์ฟเวอร์ไม่ว่างหรือกำลังอัปเดต กรุณาลองใหม่ในอีกหนึ่งนาที",
  "error.server": "เซิร์ฟเวอร์มีปัญหา กรุณาลองอีกครั้ง หากยังเกิดขึ้นอีก โปรดแจ้งผู้ดูแลระบบ",
  "error.unknown": "เกิดข้อผิดพลาดที่ไม่คาดคิด กรุณาลองอีกครั้ง",

  "replyWindow.open": "ตอบกลับได้ถึง {time}",
  "replyWindow.humanAgent": "ลูกค้าส่งข้อความมาเกิน 24 ชั่วโมงแล้ว ข้อความตอบกลับจะส่งเป็นการติดตามโดยเจ้าหน้าที่ (ได้ถึง {time})",
  "replyWindow.closed": "ตอบกลับไม่ได้ เพราะลูกค้าส่งข้อความล่าสุดเกิน 7 วันแล้ว กรุณารอให้ลูกค้าส่งข้อความมาใหม่",
  "replyWindow.noMessage": "ตอบกลับไม่ได้ เพราะลูกค้ายังไม่ได้ส่งข้อความมา",

  "page.inbox": "กล่องข้อความ",
  "page.customers": "ลูกค้า",
  "page.catalog": "คอร์สและคำสั่งซื้อ",
  "page.dashboards": "แดชบอร์ด",
  "page.syncs": "ซิงก์ข้อมูลการตลาด",
  "page.knowledge": "คลังความรู้",
  "page.staff": "พนักงาน",
  "page.audit": "บันทึกการใช้งาน",
};

/** Thai dictionary. `Record<MessageKey, string>` makes a missing or unknown key a type error. */
export const th: Record<MessageKey, string> = {
  ...core,
  ...inboxTh,
  ...customersTh,
  ...catalogTh,
  ...dashboardsTh,
  ...syncsTh,
  ...knowledgeTh,
  ...staffTh,
  ...auditTh,
};
